"""The cloud link a module gets for a broker URL: the in-memory cloud, or MQTT to a broker."""

import time

MEMORY_URLS = (None, "", "memory://")


def cloud_link_for(broker_url):
    """A fresh ``CloudLink``: for None, "" or ``memory://`` one on a new in-memory hub with
    its own shadow service (timestamps from the wall clock; this process only), for any
    other URL an ``MqttCloudLink`` to that broker (ValueError when the URL is malformed)."""
    if broker_url in MEMORY_URLS:
        from sim.cloud.memory_broker import MemoryBroker
        from sim.cloud.memory_shadow import MemoryShadowService

        broker = MemoryBroker()
        MemoryShadowService(broker, now_s=lambda: int(time.time()))
        return broker.link()
    from sim.cloud.mqtt_link import MqttCloudLink

    return MqttCloudLink(broker_url)
