"""CircuitPython ``usb_cdc``: the console serial channel; no data channel by default."""

console = None
data = None


def enable(*, console=True, data=False):
    return True


def disable():
    return True
