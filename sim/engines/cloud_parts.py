"""The cloud side both engines start beside the badge: the embedded MQTT broker with its
shadow service (unless a broker URL was given) and the ExpressLink module on the badge's
UART, talking to that broker."""

from sim.cloud.mqtt_link import MqttCloudLink
from sim.expresslink.module import ExpressLinkModule


class BrokerStartError(Exception):
    """The embedded broker could not listen; the message says what to do instead."""


async def start_embedded_broker(listen, clock):
    """An :class:`~sim.cloud.run.EmbeddedCloud` listening on ``listen`` (host, port),
    started on ``clock``. Raises :class:`BrokerStartError` when the port is taken."""
    from sim.cloud.run import EmbeddedCloud

    cloud = EmbeddedCloud(*listen, clock=clock)
    try:
        await cloud.start()
    except OSError as error:
        host, port = listen
        raise BrokerStartError(
            "cannot start the embedded broker on %s:%d (%s): another broker may be "
            "running there; use it with --broker mqtt://%s:%d, or pick another port "
            "with --listen %s:%d"
            % (host, port, error.strerror or error, host, port, host, port + 1)) from None
    return cloud


def build_module(clock, uart_device, broker_url, thing, seed=None):
    """The ExpressLink module on ``uart_device``, its cloud at ``broker_url``. Its boot
    garbage is random: give a ``seed`` and a run repeats exactly."""
    return ExpressLinkModule(clock, uart_device, MqttCloudLink(broker_url),
                             thing_name=thing, seed=seed)
