"""The cloud side of the simulator: broker, MQTT link, device shadow service, tools.

Modules (imported by their own names, so that importing the package stays cheap):

- ``broker``: an MQTT 3.1.1 broker (amqtt) inside the caller's asyncio loop.
- ``mqtt_codec`` / ``mqtt_link``: our MQTT 3.1.1 client, asyncio-native, on the loop's clock;
  ``broker_url`` checks broker URLs; ``waiting`` waits on another process from a sim loop.
- ``shadow_document`` (the one shadow model), ``shadow_requests`` (requests to answers,
  no I/O), ``shadow_service`` (those answers over MQTT): the AWS IoT Device Shadow protocol.
- ``memory_broker`` / ``memory_shadow``: the in-memory cloud for fast tests, on the same
  shadow model.
- ``link_for_url``: the cloud link for a broker URL (``memory://`` or MQTT).
- ``run`` / ``watch`` / ``shadow_client``: entry points for ``python -m sim broker|watch|send``.
- ``mosquitto``: starts a mosquitto process for tests. (The MQTT link's publish-rate
  bench is ``sim.bench.link_rate``.)
"""
