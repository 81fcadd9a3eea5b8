"""The badge's USB serial console as the host sees it, read for the run's report.

Bytes arrive with their emulated time; ``lines`` holds the text split into lines (the
terminal view shows the last of them, like the CPython engine's console). Tracebacks
are collected as on a real board: from ``Traceback (most recent call last):`` to the
exception line. Soft reloads are counted by CircuitPython's own ``soft reboot`` line.
Free-heap figures are taken from lines the badge prints as ``mem_free=N`` (or
``mem N``); telemetry's ``mem`` field is added by the report.
"""

import re

_ESCAPES = re.compile(r"\x1b\][^\x1b\x07]*(?:\x1b\\|\x07)|\x1b\[[0-9;?]*[A-Za-z]")

_MEM = re.compile(r"\bmem(?:_free)?[=: ]+(\d+)")
_TRACEBACK = "Traceback (most recent call last):"


class ConsoleCapture:
    """Everything the board printed; ``max_lines``: lines kept for viewing."""

    def __init__(self, max_lines=2000, echo=None):
        self.text = []  # decoded chunks, all of them
        self.lines = []
        self.max_lines = max_lines
        self.echo = echo  # a text stream, or None
        self._partial = ""
        self.tracebacks = []
        self._traceback = None
        self.soft_reloads = 0
        self.attach_reloads = 0  # reloads the engine made itself to attach the console
        self.interrupts = []  # KeyboardInterrupt tracebacks (Ctrl-C from the host)
        self.mem_free = []  # (time_s, bytes)
        self.first_output_s = None
        self.on_line = []  # callables(line, time_s) told of every complete line
        self.on_text = []  # callables(text, time_s) told of every chunk (prompts too)

    def feed(self, data, time_s):
        """Bytes from the board at emulated ``time_s``."""
        text = data.decode("utf-8", "replace")
        if self.first_output_s is None and text:
            self.first_output_s = time_s
        self.text.append(text)
        for callback in list(self.on_text):
            callback(text, time_s)
        if self.echo is not None:
            self.echo.write(text)
            self.echo.flush()
        self._partial += text.replace("\r", "")
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            self._line(line, time_s)

    def _line(self, line, time_s):
        line = _ESCAPES.sub("", line)
        self.lines.append(line)
        for callback in list(self.on_line):
            callback(line, time_s)
        if len(self.lines) > self.max_lines:
            del self.lines[: len(self.lines) - self.max_lines]
        stripped = line.strip()
        if "soft reboot" in stripped:
            self.soft_reloads += 1
        match = _MEM.search(stripped)
        if match:
            self.mem_free.append((time_s, int(match.group(1))))
        if stripped.endswith(_TRACEBACK):
            self._traceback = [stripped]
            return
        if self._traceback is not None:
            self._traceback.append(line)
            if line and not line.startswith(" "):
                text = "\n".join(self._traceback)
                if line.startswith("KeyboardInterrupt"):
                    self.interrupts.append(text)
                else:
                    self.tracebacks.append(text)
                self._traceback = None

    @property
    def all_text(self):
        return "".join(self.text)

    def __getitem__(self, index):
        return self.lines[index]

    def __len__(self):
        return len(self.lines)
