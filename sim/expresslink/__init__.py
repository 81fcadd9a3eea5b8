"""The emulated AWS IoT ExpressLink module, written from the specification.

Its reference (files, knobs, the choices the specification leaves open):
docs/expresslink-emulator.md.
"""

from sim.expresslink.cloud import CloudError, CloudLink
from sim.expresslink.module import ExpressLinkModule
from sim.expresslink.tcp_uart import run_expresslink_server, serve_module

__all__ = ["CloudError", "CloudLink", "ExpressLinkModule", "run_expresslink_server", "serve_module"]
