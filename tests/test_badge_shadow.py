"""The badge's device shadow: it reports what it shows and applies the desired name, QR
text and screen, through the emulated module's SHADOW commands and the shadow service.

Whole-badge scenarios first, then the ShadowTwin alone against a scripted client
(document and delta versions, one update in flight, refused commands).
"""

import asyncio
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "lib"):
    if str(path) not in sys.path:
        sys.path.append(str(path))

from expresslink.errors import ModuleError  # noqa: E402
from expresslink.events import (  # noqa: E402
    SHADOW_DELTA,
    SHADOW_DOC,
    SHADOW_INIT,
    SHADOW_UPDATE,
    Event,
)
from expresslink.messages import ShadowResult  # noqa: E402
from firmware import VERSION  # noqa: E402
from firmware.twin import ShadowTwin  # noqa: E402
from golden import assert_golden  # noqa: E402
from sim.content.deliver import BadgeScript, deliver, set_desired, sleep_until  # noqa: E402

THING = "badge-1"
NO_SHIFT = "BADGE_SHIFT_EVERY_S = 0\n"
URL_TEXT = "https://example.org/talks/42"


def frame(badge):
    return list(badge.display.panel_pixels())


def shadow(badge):
    return badge.cloud.shadows.document(THING)


def run_script(make_badge, steps, duration_s):
    badge = make_badge(settings=NO_SHIFT)
    script = BadgeScript(badge, lambda url: steps(url, badge))
    badge.run(duration_s)
    return badge, script.result()


# -- whole badge ------------------------------------------------------------------------------

def test_first_report_says_what_the_badge_shows(make_badge):
    async def steps(url, badge):
        await sleep_until(badge.clock, 5)
        return shadow(badge)

    badge, document = run_script(make_badge, steps, 6)
    assert document["state"] == {"reported": {
        "screen": "climate", "firmware": VERSION, "storage": "drive"}}
    assert any("shadow: none yet; the first report creates it" in line
               for line in badge.console)


def test_desired_state_set_while_away_is_applied_at_connect(make_badge):
    async def steps(url, badge):
        # The module is powered but the badge has not connected yet (about 2.9 s).
        await set_desired(badge.cloud.shadows, THING,
                          {"name": "Ada", "qr": URL_TEXT, "screen": "qr"})
        assert badge.clock.now() < 1
        await sleep_until(badge.clock, 6)
        return shadow(badge), frame(badge)

    badge, (document, shown) = run_script(make_badge, steps, 7)
    assert_golden("qr_url", shown)
    state = document["state"]
    assert state["reported"]["name"] == "Ada"
    assert state["reported"]["qr"] == URL_TEXT
    assert state["reported"]["screen"] == "qr"
    assert "desired" not in state and "delta" not in state  # applied and done
    assert any("name from shadow document shown" in line for line in badge.console)


def test_delta_is_applied_and_cleared(make_badge):
    async def steps(url, badge):
        await sleep_until(badge.clock, 5)
        accepted = await set_desired(badge.cloud.shadows, THING, {"name": "Ada"})
        await sleep_until(badge.clock, 7)
        return accepted, shadow(badge), frame(badge)

    badge, (accepted, document, shown) = run_script(make_badge, steps, 8)
    assert_golden("name_short", shown)
    assert document["state"]["reported"]["name"] == "Ada"
    assert document["state"]["reported"]["screen"] == "name"
    assert "delta" not in document["state"] and "desired" not in document["state"]
    assert document["version"] > accepted["version"]
    assert any("name from shadow delta shown" in line for line in badge.console)


def test_desired_screen_switches_and_buttons_still_work(make_badge):
    async def steps(url, badge):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "name", "Ada")
        await sleep_until(badge.clock, 6)
        await set_desired(badge.cloud.shadows, THING, {"screen": "status"})
        await sleep_until(badge.clock, 8)
        on_status = shadow(badge)["state"]["reported"]["screen"]
        badge.press("B")  # status -> name: the consumed desired screen does not return
        await sleep_until(badge.clock, 12)
        return on_status, shadow(badge)

    badge, (on_status, document) = run_script(make_badge, steps, 13)
    assert on_status == "status"
    assert document["state"]["reported"]["screen"] == "name"
    assert "delta" not in document["state"]


def test_mqtt_content_is_not_undone_by_an_applied_desired_name(make_badge):
    async def steps(url, badge):
        await sleep_until(badge.clock, 4)
        await set_desired(badge.cloud.shadows, THING, {"name": "Ada"})
        await sleep_until(badge.clock, 6)
        await deliver(url, THING, "name", "Bob")
        await sleep_until(badge.clock, 10)
        return shadow(badge)

    badge, document = run_script(make_badge, steps, 11)
    assert document["state"]["reported"]["name"] == "Bob"
    assert "delta" not in document["state"]


@pytest.mark.parametrize("desired, reason", [
    ({"name": 42}, "desired name must be text, not a number"),
    ({"qr": ["https://example.org"]}, "desired qr must be text, not a list"),
    ({"screen": {"id": 3}}, "desired screen must be text, not an object"),
    ({"screen": "disco"}, "screen 'disco' does not exist"),
    ({"name": "x" * 30}, "name is 30 characters; at most 21 fit"),
    ({"qr": "q" * 300}, "QR text is 300 bytes; at most 230 bytes fit"),
])
def test_wrong_desired_values_are_refused(make_badge, desired, reason):
    async def steps(url, badge):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "name", "Ada")
        await sleep_until(badge.clock, 6)
        before = frame(badge)
        await set_desired(badge.cloud.shadows, THING, desired)
        await sleep_until(badge.clock, 12)  # past the QR notice
        return before, frame(badge), shadow(badge)

    badge, (before, after, document) = run_script(make_badge, steps, 13)
    assert after == before
    state = document["state"]
    assert reason in state["reported"]["error"]
    assert state["reported"]["name"] == "Ada"
    assert "desired" not in state and "delta" not in state  # refused and done
    assert any("refused" in line and reason in line for line in badge.console)


def test_desired_keys_for_others_are_left_alone_without_a_loop(make_badge):
    async def steps(url, badge):
        await sleep_until(badge.clock, 4)
        await set_desired(badge.cloud.shadows, THING, {"colour": "red", "name": "Ada"})
        await sleep_until(badge.clock, 8)
        first = shadow(badge)
        badge.press("B")  # one more report: the delta for "colour" comes again
        await sleep_until(badge.clock, 20)
        return first, shadow(badge)

    badge, (first, last) = run_script(make_badge, steps, 21)
    assert first["state"]["desired"] == {"colour": "red"}
    assert first["state"]["delta"] == {"colour": "red"}
    assert last["state"]["reported"]["name"] == "Ada"
    # One report for the name, one for the press: the delta after each is not
    # answered with yet another report.
    assert last["version"] - first["version"] == 1
    assert sum("desired colour: not for the badge" in line for line in badge.console) >= 1


# -- the twin alone ---------------------------------------------------------------------------

class ScriptedClient:
    """Shadow commands of ExpressLinkClient, answering from queued results."""

    def __init__(self):
        self.docs = []
        self.deltas = []
        self.updates = []
        self.commands = []
        self.update_error = None
        self.conf_error = None
        self.init_error = None

    async def conf_set(self, key, value):
        if self.conf_error is not None:
            raise self.conf_error
        self.commands.append("CONF %s=%s" % (key, value))

    async def shadow_init(self):
        if self.init_error is not None:
            raise self.init_error
        self.commands.append("SHADOW INIT")

    async def shadow_subscribe(self):
        self.commands.append("SHADOW SUBSCRIBE")

    async def shadow_request_doc(self):
        self.commands.append("SHADOW DOC")

    async def shadow_get_doc(self):
        return self.docs.pop(0) if self.docs else None

    async def shadow_get_delta(self):
        return self.deltas.pop(0) if self.deltas else None

    async def shadow_get_update(self):
        return ShadowResult(True, b'{"version":1}')

    async def shadow_update(self, document):
        if self.update_error is not None:
            raise self.update_error
        self.updates.append(json.loads(document))


class RecordingContent:
    def __init__(self):
        self.calls = []

    def receive(self, kind, value, source):
        self.calls.append((kind, value, source))

    def choose_screen(self, name, source):
        self.calls.append(("screen", name, source))

    def reject(self, kind, message, source):
        self.calls.append(("refused", kind, message))

    def reported(self):
        return {"screen": "climate"}


def run(coroutine):
    return asyncio.run(coroutine)


def test_twin_setup_sequence_and_stale_deltas():
    client = ScriptedClient()
    content = RecordingContent()
    twin = ShadowTwin(content, lambda topic, message: None)

    async def session():
        await twin.configure(client)
        await twin.start(client)
        await twin.on_event(client, Event(SHADOW_INIT, 0))
        client.docs.append(ShadowResult(True, json.dumps(
            {"state": {"desired": {"name": "Ada"}, "reported": {}}, "version": 10}).encode()))
        await twin.on_event(client, Event(SHADOW_DOC, 0))
        client.deltas.append(b'{"version":9,"state":{"name":"Old"}}')
        await twin.on_event(client, Event(SHADOW_DELTA, 0))
        client.deltas.append(b'{"version":11,"state":{"screen":"qr"}}')
        await twin.on_event(client, Event(SHADOW_DELTA, 0))

    run(session())
    assert client.commands == ["CONF EnableShadow=1", "SHADOW INIT", "SHADOW SUBSCRIBE",
                               "SHADOW DOC"]
    assert content.calls == [("name", "Ada", "shadow document"),
                             ("screen", "qr", "shadow delta")]


def test_twin_keeps_one_update_in_flight_and_nulls_applied_keys():
    client = ScriptedClient()
    twin = ShadowTwin(RecordingContent(), lambda topic, message: None)

    async def session():
        await twin.start(client)
        client.docs.append(ShadowResult(True, b'{"state":{"desired":{"screen":"photo"}},"version":3}'))
        await twin.on_event(client, Event(SHADOW_DOC, 0))
        await twin.sync(client)
        twin.request_report()
        await twin.sync(client)  # the first update is still unanswered
        sent_while_waiting = len(client.updates)
        await twin.on_event(client, Event(SHADOW_UPDATE, 0))
        await twin.sync(client)
        return sent_while_waiting

    assert run(session()) == 1
    assert client.updates == [
        {"state": {"reported": {"screen": "climate"}, "desired": {"screen": None}}},
        {"state": {"reported": {"screen": "climate"}}},
    ]


def test_twin_reports_nothing_before_the_document():
    client = ScriptedClient()
    twin = ShadowTwin(RecordingContent(), lambda topic, message: None)

    async def session():
        await twin.start(client)
        await twin.sync(client)

    run(session())
    assert client.updates == []


def test_twin_survives_a_refused_update_and_tries_again():
    client = ScriptedClient()
    logged = []
    twin = ShadowTwin(RecordingContent(), lambda topic, message: logged.append(message))

    async def session():
        await twin.start(client)
        client.docs.append(ShadowResult(False, b'{"code":404,"message":"No shadow exists"}'))
        await twin.on_event(client, Event(SHADOW_DOC, 0))
        client.update_error = ModuleError(24, "SHADOW ERROR")
        await twin.sync(client)
        client.update_error = None
        await twin.sync(client)

    run(session())
    assert len(client.updates) == 1
    assert any("report not sent" in line for line in logged)
    assert any("none yet; the first report creates it" in line for line in logged)


@pytest.mark.parametrize("refusal", ["conf", "init"])
def test_twin_steps_aside_when_the_module_has_no_shadow(refusal):
    """An older module refusing EnableShadow (ERR7), or a module not yet onboarded
    refusing SHADOW INIT (ERR24): the session goes on without a shadow."""
    client = ScriptedClient()
    if refusal == "conf":
        client.conf_error = ModuleError(7, "INVALID KEY")
    else:
        client.init_error = ModuleError(24, "SHADOW ERROR")
    logged = []
    twin = ShadowTwin(RecordingContent(), lambda topic, message: logged.append(message))

    async def session():
        await twin.configure(client)
        await twin.start(client)
        twin.request_report()
        await twin.sync(client)

    run(session())
    assert client.updates == [] and "SHADOW INIT" not in client.commands
    assert any("not available" in line for line in logged)


def test_twin_reports_a_broken_document_as_an_error():
    client = ScriptedClient()
    content = RecordingContent()
    twin = ShadowTwin(content, lambda topic, message: None)

    async def session():
        await twin.start(client)
        client.docs.append(ShadowResult(True, b'{"state":{"desired":[1,2]},"version":2}'))
        await twin.on_event(client, Event(SHADOW_DOC, 0))

    run(session())
    assert content.calls == [("refused", "shadow", "shadow: desired is a list, not an object")]


# -- the same code on a MicroPython VM ------------------------------------------------------

MICROPYTHON_SCENARIO = '''"""Shadow documents, records, content checks, the twin and burn-in care on MicroPython."""

import asyncio

from firmware import burnin, shadow_doc, storage
from firmware.content import ContentManager
from firmware.twin import ShadowTwin


def expect(fragment, fn, *args):
    try:
        fn(*args)
    except ValueError as error:
        assert fragment in str(error), (fragment, str(error))
        return
    raise AssertionError("no ValueError for " + fragment)


class State:
    def __init__(self):
        self.screen = "climate"
        self.notice = None
        self.reading = None

    def show_screen(self, name):
        self.screen = name

    def show_notice(self, text, seconds):
        self.notice = text


class MemoryStore:
    writable = True

    def __init__(self):
        self.records = {}

    def save(self, name, data):
        self.records[name] = storage.pack_record(data)
        return True

    def load(self, name):
        record = self.records.get(name)
        return storage.unpack_record(record) if record is not None else None


class Events:
    def __init__(self, event_id):
        self.id = event_id
        self.name = "EVENT"


class Result:
    def __init__(self, accepted, document):
        self.accepted = accepted
        self.document = document


class Client:
    def __init__(self):
        self.updates = []
        self.docs = []
        self.deltas = []

    async def conf_set(self, key, value):
        pass

    async def shadow_init(self):
        pass

    async def shadow_subscribe(self):
        pass

    async def shadow_request_doc(self):
        pass

    async def shadow_get_doc(self):
        return self.docs.pop(0)

    async def shadow_get_delta(self):
        return self.deltas.pop(0)

    async def shadow_get_update(self):
        return Result(True, b"{}")

    async def shadow_update(self, document):
        self.updates.append(document)


def check_documents():
    version, desired = shadow_doc.read_document(
        b'{"state":{"desired":{"name":"Ada","qr":7}},"version":4}')
    assert version == 4 and desired["name"] == "Ada"
    requests = shadow_doc.desired_requests(desired)
    assert requests[0] == ("name", "Ada", None)
    assert requests[1][0] == "qr" and "not a number" in requests[1][2]
    expect("not valid JSON", shadow_doc.read_document, b"\\xff{")
    expect("not valid JSON", shadow_doc.read_document, b"{nope")
    expect("not an object", shadow_doc.read_delta, b"[1]")
    import json
    update = json.loads(shadow_doc.update_json({"screen": "qr"}, ["screen"]))
    assert update["state"]["desired"]["screen"] is None


def check_records():
    record = storage.pack_record(b"Ada")
    assert storage.unpack_record(record) == b"Ada"
    broken = bytearray(record)
    broken[8] ^= 1
    expect("CRC mismatch", storage.unpack_record, broken)
    expect("partial write", storage.unpack_record, record[:5])
    logged = []
    store = storage.DriveStore(lambda topic, message: logged.append(message), "/input/none")
    assert store.load("name") is None and not logged, logged


def check_content():
    logged = []
    state = State()
    store = MemoryStore()
    content = ContentManager(state, store, lambda topic, message: logged.append(message))
    assert content.receive("name", b"Ada", "test")
    assert not content.receive("name", b"Ad\\xe9", "test")
    assert "UTF-8" in content.error and content.name == "Ada"
    assert content.receive("qr", "https://example.org/talks/42", "test")
    assert content.qr.version == 4 and state.screen == "qr"
    assert not content.receive("qr", "y" * 231, "test")
    assert state.notice.startswith("not shown: QR text is 231 bytes")
    again = ContentManager(State(), store, lambda topic, message: None)
    again.load()
    assert again.name == "Ada" and again.qr_text == "https://example.org/talks/42"
    report = content.reported()
    assert report["storage"] == "drive" and report["photo"] is None


def check_twin():
    content = ContentManager(State(), None, lambda topic, message: None)
    twin = ShadowTwin(content, lambda topic, message: None)
    client = Client()

    async def session():
        await twin.start(client)
        client.docs.append(Result(True, b'{"state":{"desired":{"name":"Bob"}},"version":2}'))
        await twin.on_event(client, Events(22))
        await twin.sync(client)
        client.deltas.append(b'{"version":2,"state":{"name":"Old"}}')
        await twin.on_event(client, Events(24))

    asyncio.run(session())
    assert content.name == "Bob"
    assert len(client.updates) == 1
    assert '"Bob"' in client.updates[0]


def check_burnin():
    care = burnin.BurnInCare(30, 10, 1000)
    assert care.update(20000) and care.phase == 1 and not care.dimmed  # shifted at 11 s
    assert care.ms_to_next(20000) == 1000
    assert care.update(31000) and care.dimmed
    assert care.activity(32000) and not care.dimmed
    assert care.phase == 3 and care.offset((0, 0, 0, 1)) == (0, 1)
    assert care.offset((0, 0, 0, 0)) == (0, 0)


check_documents()
check_records()
check_content()
check_twin()
check_burnin()
print("PASS")
'''


def test_twin_content_and_records_run_on_micropython(tmp_path):
    """json, UTF-8 errors, OSError numbers and the asyncio port behave as the code expects."""
    from sim.checks import mpy_run

    scenario = tmp_path / "badge_twin_scenario.py"
    scenario.write_text(MICROPYTHON_SCENARIO)
    outcome = mpy_run.run_scenario(scenario)
    assert outcome.ok, str(outcome)
