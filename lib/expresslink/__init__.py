"""AWS IoT ExpressLink host driver: sans-I/O protocol core plus an async client.

The core (``commands``, ``escape``, ``lines``, ``responses``, ``exchange``, ``resync``,
``events``, ``messages``) has no I/O and no clock; its main names are re-exported here.
The async client lives in ``expresslink.client`` (``ExpressLinkClient``) because it
needs asyncio and adafruit_ticks. (No ``__all__``: on the badge it would cost RAM.)
"""

from expresslink.commands import PING, encode, encode_text
from expresslink.errors import (
    CommandTimeout,
    ExpressLinkError,
    ModuleError,
    ProtocolError,
    StateError,
)
from expresslink.escape import escape, unescape
from expresslink.events import Event, parse_event
from expresslink.exchange import Exchange
from expresslink.lines import LineAssembler
from expresslink.messages import Message
from expresslink.resync import Resync
from expresslink.responses import Response, parse_head
