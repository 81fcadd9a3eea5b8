"""Readings waiting to be published: bounded, in order, nothing dropped silently."""

class Outbox:
    """A ring of at most ``capacity`` readings, oldest first.

    When it is full the oldest reading makes room and ``dropped`` counts it (the caller
    logs it).
    """

    def __init__(self, capacity=64):
        self._items = [None] * capacity
        self._head = 0  # index of the oldest reading
        self._count = 0
        self.dropped = 0

    def __len__(self):
        return self._count

    @property
    def capacity(self):
        return len(self._items)

    def put(self, reading):
        """Add ``reading``; returns the reading it pushed out, or None."""
        pushed_out = None
        size = len(self._items)
        if self._count == size:
            pushed_out = self._items[self._head]
            self._head = (self._head + 1) % size
            self._count -= 1
            self.dropped += 1
        self._items[(self._head + self._count) % size] = reading
        self._count += 1
        return pushed_out

    def peek(self):
        """The oldest reading, or None."""
        return self._items[self._head] if self._count else None

    def pop(self):
        """Remove the oldest reading (after it was published)."""
        if not self._count:
            return None
        reading = self._items[self._head]
        self._items[self._head] = None
        self._head = (self._head + 1) % len(self._items)
        self._count -= 1
        return reading
