"""The Node process running the RP2040, and the JSON-lines link to it.

The link is a pair of pipes (the child's file descriptors 3 and 4), so nothing the
emulator prints can corrupt it. Every read has a wall-clock deadline: when Node does not
answer in time, or exits, :class:`EngineError` says so with the end of what it printed.
"""

import json
import os
import select
import subprocess
import tempfile
from pathlib import Path

from sim.engines.circuitpython.parts import NODE_DIR

CHILD_IN, CHILD_OUT = 3, 4


class EngineError(Exception):
    """The emulator failed, hung or exited; the message carries its last output."""


class NodeProcess:
    """``node host.mjs CONFIG`` with the link pipes; ``config`` is a JSON-able dict.

    ``answer_timeout_s``: longest wall-clock wait for any one message from Node.
    """

    def __init__(self, parts, config, *, answer_timeout_s=60.0):
        self.answer_timeout_s = answer_timeout_s
        self._scratch = tempfile.TemporaryDirectory(prefix="badge-rp2040-")
        config_path = Path(self._scratch.name) / "config.json"
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        config = dict(config, fdIn=CHILD_IN, fdOut=CHILD_OUT)
        config_path.write_text(json.dumps(config))
        self._stderr = open(Path(self._scratch.name) / "node.log", "w+b")

        def wire_fds():  # in the child, before exec: the link on fds 3 and 4
            os.dup2(to_child_r, CHILD_IN)
            os.dup2(from_child_w, CHILD_OUT)

        self.process = subprocess.Popen(
            [parts.node, str(parts.host_script), str(config_path)], cwd=str(NODE_DIR),
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
            preexec_fn=wire_fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._pending = b""

    @property
    def scratch(self):
        """A temporary folder that lives as long as the process object."""
        return Path(self._scratch.name)

    def output_tail(self, limit=2000):
        """The end of what Node printed (its stdout and stderr)."""
        self._stderr.flush()
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace")
        return text[-limit:]

    def receive(self):
        """The next message from Node (a dict), within ``answer_timeout_s`` of wall time."""
        while b"\n" not in self._pending:
            ready, _, _ = select.select([self._from_child], [], [], self.answer_timeout_s)
            if not ready:
                self.kill()
                raise EngineError("the RP2040 emulator did not answer within %.0f s; it "
                                  "printed:\n%s" % (self.answer_timeout_s, self.output_tail()))
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                code = self.process.wait(timeout=10)
                raise EngineError("the RP2040 emulator exited (code %s); it printed:\n%s"
                                  % (code, self.output_tail()))
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return json.loads(line)

    def send(self, message):
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode("latin-1")
        try:
            while data:
                written = os.write(self._to_child, data)
                data = data[written:]
        except BrokenPipeError:
            raise EngineError("the RP2040 emulator is gone; it printed:\n%s"
                              % self.output_tail()) from None

    def wait(self, timeout_s=10.0):
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def close(self):
        self.kill()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        self._scratch.cleanup()
