"""Cloud-side commands: ``broker``, ``expresslink``, ``watch`` and ``send``.

Each runs its own asyncio loop in real time. Errors from the network or from bad input
end the command with a message that says what went wrong and what to try.
"""

import asyncio
import sys

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
SUFFIXES = {"qr": "qr", "photo": "photo", "name": "name"}


def add_cloud_commands(sub):
    broker = sub.add_parser("broker", help="the embedded MQTT broker with the device "
                                           "shadow service")
    broker.add_argument("--listen", default="127.0.0.1:1883", metavar="HOST:PORT")

    module = sub.add_parser("expresslink", help="the emulated ExpressLink module alone; "
                                                "its UART is a TCP byte stream")
    module.add_argument("--listen", required=True, metavar="HOST:PORT")
    module.add_argument("--broker", metavar="URL",
                        help="MQTT broker (default: an embedded one in this process)")
    module.add_argument("--thing", default="badge-1", help="the module's ThingName")

    watch = sub.add_parser("watch", help="print received telemetry as JSON lines")
    watch.add_argument("thing", nargs="?", help="one badge (default: all)")
    watch.add_argument("--broker", default=DEFAULT_BROKER, metavar="URL")
    watch.add_argument("--count", type=int, metavar="N", help="stop after N messages")

    send = sub.add_parser("send", help="deliver content to a badge")
    send.add_argument("kind", choices=sorted(SUFFIXES))
    send.add_argument("thing", metavar="THING")
    send.add_argument("value", metavar="VALUE", help="QR text, image file, or name")
    send.add_argument("--broker", default=DEFAULT_BROKER, metavar="URL")
    fit = send.add_mutually_exclusive_group()
    fit.add_argument("--fit", dest="mode", action="store_const", const="fit",
                     help="photo: whole image, letterboxed (default)")
    fit.add_argument("--fill", dest="mode", action="store_const", const="fill",
                     help="photo: fill the screen, cropping the edges")
    send.add_argument("--dither", choices=("floyd", "ordered", "none"), default="floyd")
    send.add_argument("--invert", action="store_true", help="photo: swap lit and dark")
    send.add_argument("--preview", metavar="PNG", help="photo/qr: write what the badge "
                                                       "will show")
    return {"broker": run_broker, "expresslink": run_module, "watch": run_watch,
            "send": run_send}


def _fail(message):
    print(message, file=sys.stderr)
    return 1


def _run(coro):
    try:
        asyncio.run(coro)
    except KeyboardInterrupt:
        pass
    return 0


def run_broker(args):
    from sim.cloud.run import parse_listen, run_broker as serve

    try:
        parse_listen(args.listen)
    except ValueError as error:
        return _fail("broker: %s" % error)
    try:
        return _run(serve(args.listen))
    except OSError as error:
        return _fail("broker: cannot listen on %s (%s); is another broker running? "
                     "Try --listen 127.0.0.1:1884" % (args.listen, error.strerror or error))


async def _module_with_embedded_broker(args):
    from sim.cloud.run import EmbeddedCloud
    from sim.expresslink.tcp_uart import run_expresslink_server

    async with EmbeddedCloud() as cloud:
        print("embedded broker on %s" % cloud.url, flush=True)
        await run_expresslink_server(args.listen, cloud.url, args.thing)


def run_module(args):
    from sim.expresslink.tcp_uart import parse_listen, run_expresslink_server

    try:
        parse_listen(args.listen)
    except ValueError as error:
        return _fail("expresslink: %s" % error)
    try:
        if args.broker:
            _check_url(args.broker)
            return _run(run_expresslink_server(args.listen, args.broker, args.thing))
        return _run(_module_with_embedded_broker(args))
    except ValueError as error:
        return _fail("expresslink: %s" % error)
    except OSError as error:
        return _fail("expresslink: cannot listen on %s (%s)" % (args.listen, error))


def _check_url(url):
    from sim.cloud.mqtt_link import parse_broker_url

    parse_broker_url(url)


async def _watch_and_announce(args):
    """``watch``, saying on stderr once it is subscribed (readings from then on arrive)."""
    from sim.cloud.watch import telemetry_filter, watch

    ready = asyncio.Event()

    async def announce():
        await ready.wait()
        print("watch: subscribed to %s at %s" % (telemetry_filter(args.thing), args.broker),
              file=sys.stderr, flush=True)

    announcing = asyncio.ensure_future(announce())
    try:
        return await watch(args.thing, args.broker, count=args.count, ready=ready)
    finally:
        announcing.cancel()


def run_watch(args):
    from sim.expresslink.cloud import CloudError

    try:
        _check_url(args.broker)
        return _run(_watch_and_announce(args))
    except ValueError as error:
        return _fail("watch: %s" % error)
    except CloudError as error:
        return _fail("watch: cannot reach the broker at %s: %s; start one with "
                     "`python -m sim broker` or pass --broker URL"
                     % (args.broker, error.detail or error))


async def _publish(broker_url, topic, payload):
    """QoS 1 and retained: a badge that is offline gets the content when it subscribes."""
    import os

    from sim.cloud.mqtt_link import MqttCloudLink

    link = MqttCloudLink(broker_url)
    await link.connect("sim-send-%d" % os.getpid())
    try:
        await link.publish(topic, payload, qos=1, retain=True)
    finally:
        await link.disconnect()


def run_send(args):
    from sim.content.payloads import ContentError, name_payload, photo_payload, qr_payload
    from sim.expresslink.cloud import CloudError

    topic = "badge/%s/%s" % (args.thing, SUFFIXES[args.kind])
    try:
        _check_url(args.broker)
        if args.kind == "photo":
            payload, preview, info = photo_payload(args.value, args.mode or "fit",
                                                   args.dither, args.invert)
            if args.preview:
                preview.save(args.preview)
            size = info.get("source_size") or ("?", "?")
            what = "photo %s (%s %sx%s, %s, %s dither%s, %d of 8192 pixels lit)" % (
                args.value, info.get("source_format") or "image", size[0], size[1],
                info["mode"], info["dither"], ", inverted" if info["invert"] else "",
                info["lit_pixels"])
        elif args.kind == "qr":
            payload, info = qr_payload(args.value)
            if args.preview:
                from sim.content.payloads import qr_image

                qr_image(args.value).save(args.preview)
            what = ("QR text of %d bytes (version %d, level %s, %d px per module, "
                    "%dx%d px with the quiet zone; at most %d bytes fit)"
                    % (info["bytes"], info["version"], info["level"], info["scale"],
                       info["size_px"], info["size_px"], info["max_bytes"]))
        else:
            payload, info = name_payload(args.value)
            what = "name %r" % payload
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        asyncio.run(_publish(args.broker, topic, data))
    except ContentError as error:
        return _fail("send %s: %s" % (args.kind, error))
    except ValueError as error:
        return _fail("send %s: %s" % (args.kind, error))
    except CloudError as error:
        return _fail("send: cannot reach the broker at %s: %s; is `python -m sim` or "
                     "`python -m sim broker` running?" % (args.broker, error.detail or error))
    print("sent %s to %s: %d bytes on %s" % (what, args.thing, len(data), topic))
    if args.preview:
        print("preview: %s" % args.preview)
    return 0
