"""The badge's device shadow: it reports what it shows and applies the desired name, QR
text and screen, through the emulated module's SHADOW commands and the shadow service.

Whole-badge scenarios first, then the ShadowTwin alone against a scripted client
(document and delta versions, one update in flight, refused commands). The same modules
on a MicroPython VM: tests/mpy/badge_twin_scenario.py (run by test_portability.py).
"""

import asyncio
import json

import pytest

from expresslink.errors import ModuleError
from expresslink.events import (
    SHADOW_DELTA,
    SHADOW_DOC,
    SHADOW_INIT,
    SHADOW_UPDATE,
    Event,
)
from expresslink.messages import ShadowResult
from firmware import VERSION
from firmware.twin import ShadowTwin
from golden import assert_golden
from sim.content.deliver import BadgeScript, deliver, set_desired, sleep_until

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
