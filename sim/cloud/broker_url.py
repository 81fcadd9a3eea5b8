"""Broker URLs: ``mqtt://host[:port]`` and ``mqtts://host[:port]``, checked and split."""

from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def parse_broker_url(url):
    """``mqtt://host[:port]`` or ``mqtts://host[:port]`` -> (scheme, host, port, user, password).

    Raises ValueError with the reason when the URL is not one of those.
    """
    usage = "a broker URL looks like mqtt://HOST:PORT or mqtts://HOST:PORT"
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(usage + ", got " + repr(url))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(usage + "; unknown scheme " + repr(parts.scheme) + " in " + repr(url))
    try:
        port = parts.port
    except ValueError:
        raise ValueError(usage + "; the port must be a number 1-65535 in " + repr(url)) from None
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise ValueError(usage + "; the port must be 1-65535 in " + repr(url))
    if not parts.hostname:
        raise ValueError(usage + "; the host is missing in " + repr(url))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(usage + "; no path or query allowed in " + repr(url))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return scheme, parts.hostname, port, user, password
