"""The module's two queues and topic routing: messages (drop newest) and events (drop oldest).

Routing: an incoming message belongs to the lowest N whose TopicN (an MQTT topic
filter, wildcards allowed) matches its topic; no match -> index 0, the GET0 catch-all.
"""

from collections import deque

from sim.expresslink.codes import EVENT_MNEMONIC


def topic_matches(topic_filter, topic):
    """MQTT 3.1.1 filter matching: ``+`` one level, ``#`` the rest (parent included).

    Filters starting with a wildcard do not match topics starting with ``$``.
    """
    if not topic_filter:
        return False
    if topic_filter == topic:
        return True
    if topic.startswith("$") and topic_filter[0] in "+#":
        return False
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    for i, level in enumerate(f_levels):
        if level == "#":
            return i == len(f_levels) - 1
        if i >= len(t_levels):
            return False
        if level != "+" and level != t_levels[i]:
            return False
    if len(f_levels) == len(t_levels):
        return True
    # "a/#" also matches "a"
    return len(f_levels) == len(t_levels) + 1 and f_levels[-1] == "#"


def route(topic, topic_filters):
    """Index (1-based) of the first filter in ``topic_filters`` matching ``topic``; 0 if none."""
    for index, topic_filter in enumerate(topic_filters, 1):
        if topic_filter and topic_matches(topic_filter, topic):
            return index
    return 0


class Message:
    """One received message: routing index, topic (str), payload (bytes)."""

    __slots__ = ("index", "topic", "payload")

    def __init__(self, index, topic, payload):
        self.index = index
        self.topic = topic
        self.payload = payload


class MessageQueue:
    """Bounded FIFO of received messages; ``put`` refuses (returns False) when full."""

    def __init__(self, depth):
        self.depth = depth
        self._items = []

    def __len__(self):
        return len(self._items)

    def put(self, message):
        if len(self._items) >= self.depth:
            return False
        self._items.append(message)
        return True

    def pop(self, index=None):
        """Oldest message (any index when ``index`` is None), or None."""
        for i, message in enumerate(self._items):
            if index is None or message.index == index:
                return self._items.pop(i)
        return None

    def clear(self):
        self._items.clear()


class Event:
    """One queued event: id, parameter (int or dotted str), optional detail text.

    ``mnemonic`` None takes the specification's name for the id; "" leaves it out.
    """

    __slots__ = ("event_id", "param", "detail", "mnemonic")

    def __init__(self, event_id, param=0, detail="", mnemonic=None):
        self.event_id = event_id
        self.param = param
        self.detail = detail
        self.mnemonic = EVENT_MNEMONIC.get(event_id, "EVENT") if mnemonic is None else mnemonic

    def text(self):
        """``{id} {param}[ {MNEMONIC}][ {detail}]`` (what follows ``OK `` in EVENT?)."""
        line = "%d %s" % (self.event_id, self.param)
        if self.mnemonic:
            line += " " + self.mnemonic
        if self.detail:
            line += " " + self.detail
        return line

    def __repr__(self):
        return "Event(%s)" % self.text()


class EventQueue:
    """Bounded FIFO of events; a full queue discards its oldest event.

    ``on_change(level)`` is called whenever the EVENT pin level (queue non-empty) changes.
    """

    def __init__(self, depth, on_change=None):
        self.depth = depth
        self._items = deque()
        self.on_change = on_change
        self.dropped = 0

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    @property
    def pin(self):
        return bool(self._items)

    def push(self, event):
        was = self.pin
        if len(self._items) >= self.depth:
            self._items.popleft()
            self.dropped += 1
        self._items.append(event)
        self._changed(was)

    def pop(self):
        if not self._items:
            return None
        was = self.pin
        event = self._items.popleft()
        self._changed(was)
        return event

    def clear(self):
        was = self.pin
        self._items.clear()
        self._changed(was)

    def _changed(self, was):
        if self.on_change is not None and was != self.pin:
            self.on_change(self.pin)
