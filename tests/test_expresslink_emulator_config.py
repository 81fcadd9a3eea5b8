"""ExpressLink emulator: the configuration dictionary (CONF, CONF?), edge cases 3, 22, 23."""

from sim.expresslink.config import fake_pem
from scripted_host import THING, run


def test_edge03_command_case_insensitive_keys_case_sensitive():
    async def scenario(bench):
        host = bench.host
        assert await host.command("connect?") == b"OK 0 1 DISCONNECTED CUSTOMER"
        assert await host.command("Conf? ThingName") == b"OK " + THING.encode()
        assert await host.command("CONF VERSION=2") == b"ERR11 UNKNOWN KEY"
        assert await host.command("CONF? thingname") == b"ERR11 UNKNOWN KEY"
        assert await host.command("conf topic1=x") == b"ERR11 UNKNOWN KEY"

    run(scenario)


def test_edge22_conf_errors_limits_and_values():
    async def scenario(bench):
        host = bench.host
        # key length, key name, unknown, read-only, write-only
        assert await host.command("CONF ABCDEFGHIJKLMNOPQ=1") == b"ERR9 INVALID KEY LENGTH"
        assert await host.command("CONF =1") == b"ERR9 INVALID KEY LENGTH"
        assert await host.command("CONF Topic_1=x") == b"ERR10 INVALID KEY NAME"
        assert await host.command("CONF Topic99=x") == b"ERR11 UNKNOWN KEY"
        assert await host.command("CONF About=me") == b"ERR12 KEY READONLY"
        assert await host.command("CONF ThingName=other") == b"ERR12 KEY READONLY"
        assert await host.command("CONF Passphrase=secret") == b"OK"
        assert await host.command("CONF? Passphrase") == b"ERR13 KEY WRITEONLY"
        assert await host.command("CONF? OTAcertificate") == b"ERR13 KEY WRITEONLY"
        # value limits (CustomName >= 128, Topic >= 128, ShadowToken 64)
        assert await host.command("CONF CustomName=" + "n" * 128) == b"OK"
        assert (await host.command("CONF CustomName=" + "n" * 129)).startswith(b"ERR4 ")
        assert (await host.command("CONF Topic1=" + "t" * 129)).startswith(b"ERR4 ")
        assert (await host.command("CONF ShadowToken=" + "s" * 65)).startswith(b"ERR4 ")
        # checked values
        assert (await host.command("CONF QoS=2")).startswith(b"ERR4 ")
        assert await host.command("CONF QoS=1") == b"OK"
        assert (await host.command("CONF EnableShadow=yes")).startswith(b"ERR4 ")
        assert (await host.command("CONF KeepAlive=soon")).startswith(b"ERR4 ")
        assert (await host.command("CONF LWTConfig={bad")).startswith(b"ERR4 ")
        # missing '=' or parameter
        assert (await host.command("CONF Topic1")).startswith(b"ERR4 ")
        assert (await host.command("CONF")).startswith(b"ERR4 ")
        assert (await host.command("CONF?")).startswith(b"ERR4 ")
        # empty values, spaces and '=' inside values
        assert await host.command("CONF Topic1=") == b"OK"
        assert await host.command("CONF? Topic1") == b"OK "
        assert await host.command("CONF CustomName=Ada  Lovelace = 1815") == b"OK"
        assert await host.command("CONF? CustomName") == b"OK Ada  Lovelace = 1815"
        assert await host.command("CONF? QoS") == b"OK 1"
        assert await host.command("CONF? EnableShadow") == b"OK 0"
        assert await host.command("CONF? ShadowToken") == b"OK ExpressLink"
        assert await host.command("CONF? TechSpec") == b"OK v1.3"

    run(scenario)


def test_edge23_conf_query_pem_is_multiline_raw():
    async def scenario(bench):
        host = bench.host
        lines = await host.exchange("CONF? Certificate pem")
        count = int(lines[0][2:].split(b" ")[0])
        assert lines[0] == b"OK%d pem" % count
        assert len(lines) == count + 1
        assert lines[1] == b"-----BEGIN CERTIFICATE-----"
        assert lines[-1] == b"-----END CERTIFICATE-----"
        single = await host.command("CONF? Certificate")
        assert single.startswith(b"OK -----BEGIN CERTIFICATE-----\\A")
        assert single.split(b"\\A")[1:] == lines[2:]
        # nothing may follow the n lines
        assert await host.read_for(0.05) == b""
        assert (await host.command("CONF? ThingName pem")).startswith(b"ERR4 ")
        assert await host.exchange("CONF? HOTAcertificate pem") == [b"OK0 pem"]

    run(scenario)


def test_conf_certificate_pem_input_mode():
    pem = fake_pem("host-ota-signer", 200)

    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Certificate=pem") == b"ERR12 KEY READONLY"
        host.write(b"AT+CONF HOTAcertificate=pem\r\n")
        assert await host.read_for(0.05) == b""  # the reply waits for the PEM block
        host.write(pem.replace("\n", "\r\n").encode() + b"\r\n")
        assert await host.read_line() == b"OK"
        lines = await host.exchange("CONF? HOTAcertificate pem")
        assert [line.decode() for line in lines[1:]] == pem.split("\n")
        # a block that is not a certificate
        host.write(b"AT+CONF RootCA=pem\n-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
        assert await host.read_line() == b"ERR26 INVALID CERTIFICATE"
        assert await host.command("") == b"OK"  # back to commands
        # escaped single-line form
        escaped = pem.replace("\n", "\\A")
        assert await host.command("CONF RootCA=" + escaped) == b"OK"
        assert await host.command("CONF RootCA=not a certificate") == b"ERR26 INVALID CERTIFICATE"

    run(scenario)


def test_reset_keeps_persistent_keys_and_clears_volatile_ones():
    async def scenario(bench):
        host = bench.host
        for command in ("CONF CustomName=Ada", "CONF Topic1=a/b", "CONF QoS=1",
                        "CONF EnableShadow=1", "CONF Shadow1=cfg", "CONF SSID=net",
                        "CONF Endpoint=x.example"):
            assert await host.command(command) == b"OK"
        assert await host.command("RESET") == b"OK"
        await host.boot(bench.module)
        assert await host.command("CONF? CustomName") == b"OK Ada"
        assert await host.command("CONF? SSID") == b"OK net"
        assert await host.command("CONF? Topic1") == b"OK "
        assert await host.command("CONF? QoS") == b"OK 0"
        assert await host.command("CONF? EnableShadow") == b"OK 0"
        assert await host.command("CONF? Shadow1") == b"OK "
        own_ca = fake_pem("our-own-ca", 90)
        assert await host.command("CONF RootCA=" + own_ca.replace("\n", "\\A")) == b"OK"
        assert await host.command("CONF ShadowToken=badge") == b"OK"
        assert await host.command("FACTORY_RESET") == b"OK"
        await host.boot(bench.module)
        assert await host.command("CONF? CustomName") == b"OK "
        assert await host.command("CONF? SSID") == b"OK "
        assert await host.command("CONF? Endpoint") == b"OK iot.badge.local"
        assert await host.command("CONF? ShadowToken") == b"OK ExpressLink"  # FR=Y
        assert await host.command("CONF? RootCA") == b"OK " + own_ca.replace("\n", "\\A").encode()  # FR=N

    run(scenario)
