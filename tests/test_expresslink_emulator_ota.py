"""ExpressLink emulator: the OTA commands and host image reads (edge case 26)."""

import asyncio

from sim.expresslink.ota import checksum16
from scripted_host import run

IMAGE = bytes((i * 37 + 11) & 0xFF for i in range(1000))


def parse_read(line):
    """``OK {count} {hex} {checksum}`` -> bytes, after checking count and checksum."""
    fields = line.split(b" ")
    assert fields[0] == b"OK"
    count = int(fields[1], 16)
    if count == 0:
        assert len(fields) == 2
        return b""
    data = bytes.fromhex(fields[2].decode())
    assert len(data) == count
    assert 1 <= len(fields[1]) <= 6 and len(fields[3]) == 4
    assert int(fields[3], 16) == sum(data) % 65536
    return data


def test_checksum_is_byte_sum_mod_65536():
    assert checksum16(b"") == 0
    assert checksum16(b"\x01\x02\xff") == 0x102
    assert checksum16(b"\xff" * 300) == (255 * 300) % 65536


def test_edge26_host_ota_read_seek_and_checksums():
    async def scenario(bench):
        host = bench.host
        ota = bench.module.ota
        assert await host.command("OTA?") == b"OK 0 IDLE"
        assert await host.command("OTA READ 16") == b"ERR19 HOST OTA IMAGE NOT AVAILABLE"
        assert await host.command("OTA SEEK") == b"ERR19 HOST OTA IMAGE NOT AVAILABLE"
        assert await host.command("OTA ACCEPT") == b"ERR21 INVALID OTA UPDATE"
        ota.offer_host_update(IMAGE, job_doc='{"app":"badge","version":"2.0"}')
        assert await host.events() == ["5 0 OTA"]
        assert await host.command("OTA?") == b"OK 2 HOTA PENDING"
        assert await host.command("OTA? DOC") == b'OK 2 HOTA PENDING {"app":"badge","version":"2.0"}'
        assert await host.command("OTA READ 16") == b"ERR19 HOST OTA IMAGE NOT AVAILABLE"
        assert await host.command("OTA ACCEPT") == b"OK"
        assert await host.command("OTA?") == b"OK 3 OTA IN PROGRESS"
        await asyncio.sleep(ota.download_time_s)
        assert await host.events() == ["5 0 OTA"]
        assert await host.command("OTA?") == b"OK 5 HOTA AVAILABLE"
        # read it all in 300-byte chunks: the last one is short, then OK 0
        got = b""
        while True:
            line = await host.command("OTA READ 300")
            chunk = parse_read(line)
            if not chunk:
                assert line == b"OK 0"
                break
            got += chunk
        assert got == IMAGE
        assert await host.command("OTA SEEK 999") == b"OK 3E7"
        assert parse_read(await host.command("OTA READ 10")) == IMAGE[999:]
        assert await host.command("OTA SEEK 1000") == b"OK 3E8"
        assert await host.command("OTA READ 1") == b"OK 0"
        assert await host.command("OTA SEEK 1001") == b"ERR20 INVALID ADDRESS"
        assert await host.command("OTA SEEK") == b"OK 0"
        assert parse_read(await host.command("OTA READ 5000")) == IMAGE  # capped at MaxOTARead
        assert (await host.command("OTA READ")).startswith(b"ERR4 ")
        assert (await host.command("OTA READ 0x10")).startswith(b"ERR4 ")
        assert (await host.command("OTA SEEK ten")).startswith(b"ERR4 ")
        assert (await host.command("OTA DANCE")).startswith(b"ERR4 ")
        assert await host.command("OTA APPLY") == b"ERR21 INVALID OTA UPDATE host image: use OTA READ"
        assert await host.command("OTA CLOSE") == b"OK"
        assert ota.reports == ["succeeded"]
        assert await host.command("OTA?") == b"OK 0 IDLE"
        assert await host.command("OTA READ 1") == b"ERR19 HOST OTA IMAGE NOT AVAILABLE"

    run(scenario)


def test_ota_read_checksum_wraps_and_count_is_hex():
    image = b"\xff" * 600

    async def scenario(bench):
        bench.module.ota.offer_host_update(image)
        assert await bench.host.command("OTA ACCEPT") == b"OK"
        await asyncio.sleep(bench.module.ota.download_time_s)
        line = await bench.host.command("OTA READ 600")
        assert line.startswith(b"OK 258 ")
        assert line.endswith(b" " + b"%04X" % ((255 * 600) % 65536))
        assert parse_read(line) == image

    run(scenario)


def test_host_ota_bad_signature_and_flush():
    async def scenario(bench):
        host = bench.host
        ota = bench.module.ota
        ota.offer_host_update(IMAGE, signature_ok=False)
        assert await host.command("OTA ACCEPT") == b"OK"
        await asyncio.sleep(ota.download_time_s)
        assert await host.events() == ["5 0 OTA", "5 0 OTA"]
        assert await host.command("OTA?") == b"OK 0 IDLE"
        assert ota.reports == ["failed"]
        ota.offer_host_update(IMAGE)
        assert await host.command("OTA FLUSH") == b"OK"
        assert await host.command("OTA?") == b"OK 0 IDLE"
        assert ota.reports == ["failed", "failed"]

    run(scenario)


def test_module_ota_apply_reboots_into_new_version():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        module.ota.offer_module_update("2.0.0")
        assert await host.command("OTA?") == b"OK 1 OTA PENDING"
        assert await host.command("OTA APPLY") == b"ERR21 INVALID OTA UPDATE"
        assert await host.command("OTA ACCEPT") == b"OK"
        await asyncio.sleep(module.ota.download_time_s)
        assert await host.command("OTA?") == b"OK 4 READY TO REBOOT"
        assert await host.command("OTA APPLY") == b"OK"
        await host.boot(module)  # garbage, silence, STARTUP
        assert await host.command("CONF? Version") == b"OK 2.0.0"
        assert await host.command("CONF? Topic1") == b"OK "  # configured like RESET
        module.ota.offer_module_update("3.0.0", signature_ok=False)
        assert await host.command("OTA ACCEPT") == b"OK"
        await asyncio.sleep(module.ota.download_time_s)
        assert await host.command("OTA APPLY") == b"ERR23 INVALID SIGNATURE"
        assert await host.command("CONF? Version") == b"OK 2.0.0"

    run(scenario)
