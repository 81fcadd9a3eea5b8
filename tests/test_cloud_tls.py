"""mqtts:// with CA, client certificate and key (as AWS IoT Core needs), against mosquitto."""

import shutil

import pytest

from sim.cloud.mosquitto import Mosquitto, find_mosquitto
from sim.cloud.mqtt_link import MqttCloudLink
from sim.cloud.testing import Inbox, make_test_pki, run_on
from sim.expresslink.cloud import CloudError

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None or shutil.which("openssl") is None,
    reason="needs mosquitto and openssl (Debian packages 'mosquitto' and 'openssl')")


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    """mosquitto with one TLS listener that requires a client certificate from our CA."""
    pki = make_test_pki(str(tmp_path_factory.mktemp("pki")))
    other = make_test_pki(str(tmp_path_factory.mktemp("other-pki")))
    config = "\n".join(["cafile " + pki["ca"], "certfile " + pki["server_cert"],
                        "keyfile " + pki["server_key"], "require_certificate true"])
    with Mosquitto(extra_config=config) as broker:
        yield "mqtts://127.0.0.1:" + str(broker.port), pki, other


@pytest.mark.parametrize("loop_kind", ["plain", "virtual"])
def test_mutual_tls_round_trip(tls_broker, loop_kind):
    url, pki, _ = tls_broker

    async def main():
        inbox = Inbox()
        links = [MqttCloudLink(url, ca=pki["ca"], cert=pki["client_cert"], key=pki["client_key"])
                 for _ in range(2)]
        links[0].on_message = inbox
        await links[0].connect("tls-sub-" + loop_kind)
        await links[1].connect("tls-pub-" + loop_kind)
        assert await links[0].subscribe("$aws/things/tls/shadow/update/accepted", 1)
        await links[1].publish("$aws/things/tls/shadow/update/accepted", b"{}", 1)
        messages = await inbox.wait(1)
        for link in links:
            await link.disconnect()
        return messages
    assert run_on(loop_kind, main)[0] == [("$aws/things/tls/shadow/update/accepted", b"{}")]


def test_untrusted_server_certificate_is_hint_4(tls_broker):
    url, _, other = tls_broker

    async def main():
        link = MqttCloudLink(url, ca=other["ca"], cert=other["client_cert"], key=other["client_key"])
        with pytest.raises(CloudError) as error:
            await link.connect("wrong-ca")
        return error.value
    error, _ = run_on("plain", main)
    assert error.hint == 4 and "certificate verify failed" in error.detail


@pytest.mark.parametrize("which", ["other-ca", "none"])
def test_refused_client_certificate_is_hint_4(tls_broker, which):
    url, pki, other = tls_broker
    cert, key = (other["client_cert"], other["client_key"]) if which == "other-ca" else (None, None)

    async def main():
        link = MqttCloudLink(url, ca=pki["ca"], cert=cert, key=key)
        with pytest.raises(CloudError) as error:
            await link.connect("unknown-cert")
        return error.value
    # TLS 1.3 reports a refused client certificate only after the handshake, as an
    # alert that closes the connection before CONNACK.
    error, _ = run_on("plain", main)
    assert error.hint == 4 and "alert" in error.detail


def test_bad_key_file_is_hint_4(tls_broker, tmp_path):
    url, pki, _ = tls_broker
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key")

    async def main():
        link = MqttCloudLink(url, ca=pki["ca"], cert=pki["client_cert"], key=str(bad_key))
        with pytest.raises(CloudError) as error:
            await link.connect("bad-key")
        return error.value.hint
    assert run_on("plain", main)[0] == 4
