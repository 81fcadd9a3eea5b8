"""The cloud-link interface and its error (defined beside the ExpressLink emulator), with hint codes.

``CloudLink`` and ``CloudError`` live in ``sim.expresslink.cloud``, the module that
uses them; they are re-exported here so that the cloud side raises the very same class.
"""

from sim.expresslink.cloud import CloudError, CloudLink

__all__ = ["CloudError", "CloudLink", "HINT_ENDPOINT_UNREACHABLE", "HINT_TLS_FAILED",
           "HINT_LOGIN_REFUSED"]

# CONNECT hint codes (ExpressLink ERR14 parameter / CONNECT event parameter). Hint 3 is
# also used after connecting: connection lost, not connected, no answer in time.
HINT_ENDPOINT_UNREACHABLE = 3
HINT_TLS_FAILED = 4
HINT_LOGIN_REFUSED = 5
