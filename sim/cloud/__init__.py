"""The cloud side of the simulator: broker, MQTT link, device shadow service, tools.

Modules (imported by their own names, so that importing the package stays cheap):

- ``broker``: an MQTT 3.1.1 broker (amqtt) inside the caller's asyncio loop.
- ``mqtt_codec`` / ``mqtt_link``: our MQTT 3.1.1 client, asyncio-native, on the loop's clock;
  ``broker_url`` checks broker URLs; ``waiting`` waits on another process from a sim loop.
- ``shadow_document`` / ``shadow_service``: the AWS IoT Device Shadow protocol.
- ``run`` / ``watch`` / ``shadow_client``: entry points for ``python -m sim broker|watch|send``.
- ``mosquitto``: starts a mosquitto process for tests; ``bench``: publish-rate figures.
"""
