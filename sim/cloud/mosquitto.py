"""A private mosquitto broker for tests: free loopback port, temporary config, clean stop.

``with Mosquitto() as broker: ... broker.url ...``. The binary comes from the Debian
package ``mosquitto`` (``/usr/sbin/mosquitto``); ``find_mosquitto()`` returns None when
it is not installed, so tests can skip with a clear reason.
"""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def find_mosquitto():
    """Path of the mosquitto binary, or None."""
    return shutil.which("mosquitto", path=SEARCH_PATH)


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _accepts(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Mosquitto:
    """One mosquitto process listening on ``host:port`` (port 0 = pick a free one).

    ``anonymous=False`` makes it refuse clients without credentials (CONNACK 5);
    ``extra_config``: more lines for its configuration file.
    """

    def __init__(self, binary=None, host="127.0.0.1", port=0, extra_config="", anonymous=True):
        self.binary = binary or find_mosquitto()
        self.anonymous = anonymous
        self.host = host
        self.port = port
        self.extra_config = extra_config
        self.process = None
        self.workdir = None

    @property
    def url(self):
        return "mqtt://" + self.host + ":" + str(self.port)

    @property
    def log_path(self):
        return os.path.join(self.workdir, "mosquitto.log")

    def log(self):
        """Everything mosquitto logged so far (empty when not started)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except (OSError, TypeError):
            return ""

    def start(self, timeout_s=10.0):
        """Start and wait until the port accepts connections; RuntimeError on failure."""
        if self.binary is None:
            raise RuntimeError("mosquitto is not installed (Debian package 'mosquitto')")
        if self.process is not None:
            raise RuntimeError("mosquitto is already running on " + self.url)
        self.workdir = tempfile.mkdtemp(prefix="badge-mosquitto-")
        attempts = 1 if self.port else 3
        for _ in range(attempts):
            port = self.port or free_port(self.host)
            if self._try_start(port, timeout_s):
                self.port = port
                return self
        log = self.log()
        self.stop()
        raise RuntimeError("mosquitto did not start; its log says:\n" + log)

    def _write_config(self, port):
        path = os.path.join(self.workdir, "mosquitto.conf")
        lines = [
            "listener " + str(port) + " " + self.host,
            "allow_anonymous " + ("true" if self.anonymous else "false"),
            "persistence false",
            "log_dest file " + self.log_path,
            "log_type error",
            "log_type warning",
            "log_type notice",
            # Run as the current user: as root, mosquitto would switch to the
            # 'mosquitto' user, which cannot write the log in our private directory.
            "user " + getpass.getuser(),
            self.extra_config,
        ]
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def _try_start(self, port, timeout_s):
        config = self._write_config(port)
        self.process = subprocess.Popen([self.binary, "-c", config],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            if _accepts(self.host, port):
                return True
            time.sleep(0.02)
        self._terminate()
        return False

    def _terminate(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop(self):
        """Stop the process and remove its directory. Safe to call twice."""
        self._terminate()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
