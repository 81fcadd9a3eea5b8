"""Default reply timeouts per command word, in ms [inf: the spec only caps every command at 120 s]."""

from micropython import const

LOCAL_MS = const(5000)  # answered from the module's own state: AT, CONF?, EVENT?, GET, TIME?
NETWORK_MS = const(30000)  # waits on the broker: SEND (QoS 1), SUBSCRIBE, SHADOW, DISCONNECT
CONNECT_MS = const(125000)  # blocking CONNECT may take the spec's 120 s TCP timeout, plus margin
RESTART_MS = const(10000)  # RESET, FACTORY_RESET, OTA APPLY, SLEEP, CONFMODE: reply before rebooting

_BY_WORD = {
    "CONNECT": CONNECT_MS,
    "EVENT!": CONNECT_MS,
    "DISCONNECT": NETWORK_MS,
    "CONNECT!": NETWORK_MS,
    "SEND": NETWORK_MS,
    "SUBSCRIBE": NETWORK_MS,
    "UNSUBSCRIBE": NETWORK_MS,
    "SHADOW": NETWORK_MS,
    "DIAG": NETWORK_MS,
    "RESET": RESTART_MS,
    "FACTORY_RESET": RESTART_MS,
    "SLEEP": RESTART_MS,
    "CONFMODE": RESTART_MS,
    "OTA": RESTART_MS,
}


def timeout_for(word):
    """Default timeout (ms) for an upper-case command word such as ``"SEND"``."""
    return _BY_WORD.get(word, LOCAL_MS)
