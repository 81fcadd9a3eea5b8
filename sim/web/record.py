"""``--record FILE`` and ``python -m sim replay FILE``: the page's messages as JSON lines.

A recording holds one JSON object per line, in the order the page got them: first the
run's ``hello`` (``mode`` "live", no ``pages``), then every message of protocol.md with
its simulated ``t``. Frames are ``{"type": "frame", "t", "flags", "contrast", "bits"}``
with ``bits`` the 1024 pixel bytes in base64 (:meth:`sim.web.frames.Frame.to_record`).
Every frame the badge showed is kept, including those a slow page skipped. With
``--record`` the hub also emits the bus traffic, kept here only: ``i2c`` (every
transaction) and ``uart`` (every write, hex), see protocol.md.
"""

import json

from sim.web.frames import Frame


class RecordingError(ValueError):
    """A file that is not a recording; the message names the file and the line."""


class Recorder:
    """Appends messages to ``path`` (written on the server's thread; flushed each
    ``flush()``, which the server calls once per batch)."""

    def __init__(self, path):
        self.path = path
        self._stream = open(path, "w", encoding="utf-8")
        self.count = 0

    def write(self, message):
        """``message``: a dict, or a :class:`Frame`."""
        record = message.to_record() if isinstance(message, Frame) else message
        self._stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.count += 1

    def flush(self):
        self._stream.flush()

    def close(self):
        if not self._stream.closed:
            self._stream.close()


def load_recording(path):
    """The recording's text and its hello: ``(text, hello)``; RecordingError when the
    file is missing or not a recording (every line is checked, frames decoded)."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        raise RecordingError("%s: no such file" % path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecordingError("%s: cannot read it (%s)" % (path, error)) from None
    hello = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise RecordingError("%s line %d: not JSON" % (path, number)) from None
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise RecordingError("%s line %d: not a message (a JSON object with a "
                                 "\"type\")" % (path, number))
        if hello is None:
            if record["type"] != "hello":
                raise RecordingError("%s line %d: a recording starts with the run's hello "
                                     "(written by --record)" % (path, number))
            hello = record
        elif record["type"] == "frame":
            try:
                Frame.from_record(record)
            except ValueError as error:
                raise RecordingError("%s line %d: %s" % (path, number, error)) from None
    if hello is None:
        raise RecordingError("%s: empty, not a recording" % path)
    return text, hello


def frames_of(text):
    """The frames of a recording's text, in order (for tests and tools)."""
    frames = []
    for line in text.splitlines():
        if '"frame"' in line:
            record = json.loads(line)
            if record.get("type") == "frame":
                frames.append(Frame.from_record(record))
    return frames
