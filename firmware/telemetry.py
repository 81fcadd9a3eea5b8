"""The telemetry message: JSON ``{"seq": n, "t": deg C, "rh": %, "up": s, "mem": bytes}``.

Built by hand with fixed decimals: the badge's floats are single precision, so
``json.dumps`` would print noise digits, and its dicts keep no key order. ``up`` is the
badge's uptime when the reading was taken, in whole seconds; ``mem`` the heap free
after a collection then (left out where the runtime cannot tell).
"""


def telemetry_json(reading):
    """The payload for one reading (str)."""
    text = '{"seq":%d,"t":%.2f,"rh":%.2f,"up":%d' % (
        reading.seq, reading.t_c, reading.rh, int(reading.up_s))
    if reading.mem is None:
        return text + "}"
    return text + ',"mem":%d}' % reading.mem
