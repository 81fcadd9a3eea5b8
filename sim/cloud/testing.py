"""Test helpers for the cloud side: loops to run on, a message inbox, mosquitto, test certificates.

Test modules import what they use (``from sim.cloud.testing import mosquitto_url``);
pytest finds fixtures imported into a test module, so no conftest entry is needed. The
fixtures share one mosquitto process per test run, started on first use.
"""

import asyncio
import atexit
import os
import subprocess

import pytest

from sim.core.clock import VirtualClock
from sim.cloud.mosquitto import Mosquitto, find_mosquitto
from sim.cloud.waiting import wait_for_answer
from sim.core.loop import SimEventLoop

LOOP_KINDS = ("plain", "virtual")


def run_on(kind, main):
    """Run ``main()`` (a coroutine function) on a fresh loop; returns (result, loop).

    ``kind``: "plain" (asyncio's own loop, real time) or "virtual" (SimEventLoop on a
    VirtualClock). Anything the loop's exception handler saw fails the run.
    """
    if kind == "plain":
        loop = asyncio.new_event_loop()
        errors = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
    elif kind == "virtual":
        loop = SimEventLoop(VirtualClock())
        errors = loop.errors
    else:
        raise ValueError("loop kind is 'plain' or 'virtual', not " + repr(kind))
    try:
        result = loop.run_until_complete(asyncio.wait_for(main(), 30.0) if kind == "plain" else main())
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    if errors:
        raise AssertionError("the loop reported errors: " + repr(errors))
    return result, loop


class Inbox:
    """A link's ``on_message`` that keeps every (topic, payload); ``await wait(n)`` for n."""

    def __init__(self):
        self.messages = []
        self._waiters = []

    def __call__(self, topic, payload):
        self.messages.append((topic, bytes(payload)))
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, count, timeout_s=5.0):
        """The first ``count`` messages; waits (in real time on a SimEventLoop) for them."""
        while len(self.messages) < count:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await wait_for_answer(waiter, timeout_s)
        return self.messages[:count]

    def topics(self):
        return [topic for topic, _ in self.messages]


_shared_mosquitto = None


def shared_mosquitto():
    """One mosquitto process for the whole test run, stopped at exit; skips if missing."""
    global _shared_mosquitto
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (Debian package 'mosquitto'; `make test` installs it)")
    if _shared_mosquitto is None:
        _shared_mosquitto = Mosquitto().start()
        atexit.register(_shared_mosquitto.stop)
    return _shared_mosquitto


@pytest.fixture
def mosquitto_broker():
    """The shared mosquitto (a ``Mosquitto``); skips the test when not installed."""
    return shared_mosquitto()


@pytest.fixture
def mosquitto_url():
    """URL of the shared mosquitto; skips the test when not installed."""
    return shared_mosquitto().url


def make_test_pki(directory, openssl="openssl"):
    """Write a throw-away CA, a server certificate for 127.0.0.1 and a client certificate.

    Returns a dict of PEM paths: ca, ca_key, server_cert, server_key, client_cert,
    client_key. Needs the ``openssl`` command; EC P-256 keys, valid for two days. The
    certificates carry the extensions a strict verifier asks for (Python 3.13's default
    context: key usage on the CA, key identifiers on the leaves).
    """
    def run(*args):
        subprocess.run([openssl, *args], cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    key_options = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *key_options, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=badge test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    leaf = "\n".join(("keyUsage=critical,digitalSignature", "subjectKeyIdentifier=hash",
                      "authorityKeyIdentifier=keyid,issuer"))
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1\n" + leaf),
                            ("client", "extendedKeyUsage=clientAuth\n" + leaf)):
        run("req", *key_options, "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + name)
        with open(os.path.join(directory, name + ".ext"), "w", encoding="ascii") as handle:
            handle.write(extension + "\n")
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    return {"ca": path("ca.pem"), "ca_key": path("ca.key"),
            "server_cert": path("server.pem"), "server_key": path("server.key"),
            "client_cert": path("client.pem"), "client_key": path("client.key")}
