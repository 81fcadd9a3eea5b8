"""What the CircuitPython engine needs from outside the repository, and how to get it.

- Node.js 18 or newer on PATH (``node``);
- the npm package rp2040js 1.4.1 in ``sim/engines/circuitpython/node/node_modules``
  (``make deps`` runs ``npm ci`` there);
- the official CircuitPython UF2 for the Raspberry Pi Pico, checked by its sha256, and
  the RP2040 B1 bootrom, both from ``../shared/rp2040/`` beside the repository (or the
  folder named by ``BADGE_RP2040_DIR``).

:func:`find_parts` returns them all or raises :class:`MissingPart`, whose message says
what is missing and how to get it.
"""

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
NODE_DIR = Path(__file__).resolve().parent / "node"
RP2040_ENV = "BADGE_RP2040_DIR"
RP2040_PACKAGE = "rp2040js"
RP2040_VERSION = "1.4.1"

VERSIONS = ("9.2.1", "10.0.3", "10.2.1")
DEFAULT_VERSION = "10.2.1"
UF2_SHA256 = {
    "9.2.1": "b23e50784711101d6fd9958778f5541ea0781e9eb317dfe1d775959e80512bd6",
    "10.0.3": "ff32bcf0be8f2707698e5d37ae903f1c016fbf826214cf9bb6e61cc5594506c7",
    "10.2.1": "4568ecbf69a4623ec5bfcbf9efc983e9d264c7b0d4ab56f14fe336543c708318",
}
BOOTROM_SHA256 = "90b31e108faedfa6bbcfcc33ba05dac61e645108cfbbdc385f8dafc71fde44ae"
UF2_URL = ("https://downloads.circuitpython.org/bin/raspberry_pi_pico/en_US/"
           "adafruit-circuitpython-raspberry_pi_pico-en_US-%s.uf2")


class MissingPart(Exception):
    """A part the CircuitPython engine needs is missing; the message says how to get it."""


@dataclass(frozen=True)
class Parts:
    node: str  # path of the node executable
    host_script: Path  # node/host.mjs
    uf2: Path
    bootrom: Path
    version: str


def uf2_name(version):
    return "adafruit-circuitpython-raspberry_pi_pico-en_US-%s.uf2" % version


def rp2040_dir():
    """The folder holding ``bootrom-b1.bin`` and, in its own ``firmware`` folder, the UF2s."""
    override = os.environ.get(RP2040_ENV)
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "rp2040"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _uf2_help(version, folder):
    return ("download the official CircuitPython %s for the Raspberry Pi Pico from %s "
            "(sha256 %s) into %s, or point %s at a folder holding firmware/%s and "
            "bootrom-b1.bin" % (version, UF2_URL % version, UF2_SHA256[version],
                                folder / "firmware", RP2040_ENV, uf2_name(version)))


def find_node():
    node = shutil.which("node")
    if node is None:
        raise MissingPart("the CircuitPython engine needs Node.js 18 or newer (`node` is not "
                          "on PATH): install it (Debian: apt-get install nodejs npm), then "
                          "run `make deps`")
    try:
        text = subprocess.run([node, "--version"], capture_output=True, text=True,
                              timeout=20).stdout.strip()
        major = int(text.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        raise MissingPart("cannot run %s --version" % node) from None
    if major < 18:
        raise MissingPart("the CircuitPython engine needs Node.js 18 or newer, found %s"
                          % text)
    return node


def check_package():
    package = NODE_DIR / "node_modules" / RP2040_PACKAGE / "package.json"
    if not package.exists():
        raise MissingPart("the npm package %s %s is not installed: run `make deps` (it runs "
                          "`npm ci` in %s)" % (RP2040_PACKAGE, RP2040_VERSION, NODE_DIR))
    import json

    found = json.loads(package.read_text()).get("version")
    if found != RP2040_VERSION:
        raise MissingPart("%s is %s, the engine is built for %s: run `make deps`"
                          % (RP2040_PACKAGE, found, RP2040_VERSION))


def find_firmware(version):
    """(uf2 path, bootrom path), both checked by sha256."""
    if version not in UF2_SHA256:
        raise MissingPart("CircuitPython %s is not supported; choose one of %s"
                          % (version, ", ".join(VERSIONS)))
    folder = rp2040_dir()
    uf2 = folder / "firmware" / uf2_name(version)
    if not uf2.exists():
        raise MissingPart("no CircuitPython %s UF2 at %s: %s" % (version, uf2,
                                                                 _uf2_help(version, folder)))
    found = _sha256(uf2)
    if found != UF2_SHA256[version]:
        raise MissingPart("%s has sha256 %s, not the official %s: %s"
                          % (uf2, found, UF2_SHA256[version], _uf2_help(version, folder)))
    bootrom = folder / "bootrom-b1.bin"
    if not bootrom.exists() or _sha256(bootrom) != BOOTROM_SHA256:
        raise MissingPart(
            "no RP2040 B1 bootrom (16,384 bytes, sha256 %s) at %s: build it from "
            "raspberrypi/pico-bootrom (tag b1), or point %s at a folder holding it"
            % (BOOTROM_SHA256, bootrom, RP2040_ENV))
    return uf2, bootrom


def find_parts(version=DEFAULT_VERSION):
    """Everything the engine needs for CircuitPython ``version``, or :class:`MissingPart`."""
    node = find_node()
    check_package()
    uf2, bootrom = find_firmware(version)
    return Parts(node, NODE_DIR / "host.mjs", uf2, bootrom, version)

# Where each UF2 waits in asyncio: the head of select.poll's wait loop (found by
# `python -m sim.engines.circuitpython.idle_probe`), and which formula turns the timer's
# microseconds into its raw ticks (port_get_raw_ticks, ports/raspberrypi/supervisor/
# port.c: changed in 10.0). The engine skips the loop's idle turns (node/idle.mjs).
IDLE_LOOPS = {
    "9.2.1": {"head": 0x10025612, "ticks": "9.2"},
    "10.0.3": {"head": 0x10026AAC, "ticks": "10"},
    "10.2.1": {"head": 0x10026B34, "ticks": "10"},
}
