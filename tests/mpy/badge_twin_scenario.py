"""Shadow documents, records, content checks, the twin and burn-in care on MicroPython:
json, UTF-8 errors, OSError numbers and the asyncio port behave as the code expects.
Prints PASS at the end (run by tests/test_portability.py).
"""

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
    expect("not valid JSON", shadow_doc.read_document, b"\xff{")
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
    assert not content.receive("name", b"Ad\xe9", "test")
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
