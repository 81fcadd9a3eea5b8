"""Shadow documents (no I/O) against AWS's Device Shadow documentation: examples, edge cases."""

import json

import pytest

from sim.cloud.shadow_document import (ShadowError, ShadowStore, client_token, compute_delta,
                                       parse_request, same_value, validate_update)

T0 = 1_700_000_000


def update(store, request, now, thing="badge", name=None):
    return store.update(thing, name, request, now)


def rejected(call, *args):
    with pytest.raises(ShadowError) as error:
        call(*args)
    return error.value.code, error.value.message


def build_section_2_example():
    """A stored document with desired, reported, delta and metadata, built by seven updates."""
    store = ShadowStore()
    update(store, {"state": {"desired": {"name": "Bob", "qr": "x"}}}, T0)
    update(store, {"state": {"reported": {"name": "Bob", "qr": "x"}}}, T0 + 50)
    for _ in range(4):  # a repeated report is accepted and bumps the version (JL)
        update(store, {"state": {"reported": {"name": "Bob", "qr": "x"}}}, T0 + 50)
    result = update(store, {"state": {"desired": {"name": "Ada"}}}, T0 + 100)
    return store, result


def test_get_matches_the_section_2_example():
    store, _ = build_section_2_example()
    assert store.get("badge", None, T0 + 200) == {
        "state": {"desired": {"name": "Ada", "qr": "x"}, "reported": {"name": "Bob", "qr": "x"},
                  "delta": {"name": "Ada"}},
        "metadata": {"desired": {"name": {"timestamp": 1700000100}, "qr": {"timestamp": 1700000000}},
                     "reported": {"name": {"timestamp": 1700000050},
                                  "qr": {"timestamp": 1700000050}}},
        "version": 7, "timestamp": 1700000200}


def test_delta_message_matches_the_section_2_example():
    store, _ = build_section_2_example()
    # A reported-only update that leaves the difference publishes the full delta.
    result = update(store, {"state": {"reported": {"qr": "x"}}}, T0 + 150)
    assert result.delta == {"version": 8, "timestamp": T0 + 150, "state": {"name": "Ada"},
                            "metadata": {"name": {"timestamp": 1700000100}}}


def test_update_accepted_echoes_only_the_request_with_its_metadata():
    store, result = build_section_2_example()
    assert result.accepted == {"state": {"desired": {"name": "Ada"}},
                               "metadata": {"desired": {"name": {"timestamp": T0 + 100}}},
                               "version": 7, "timestamp": T0 + 100}
    nulls = update(store, {"state": {"desired": {"qr": None}, "reported": {"up": 5}}}, T0 + 300)
    assert nulls.accepted["state"] == {"desired": {"qr": None}, "reported": {"up": 5}}
    assert nulls.accepted["metadata"] == {"desired": {"qr": {"timestamp": T0 + 300}},
                                          "reported": {"up": {"timestamp": T0 + 300}}}
    assert "delta" not in nulls.accepted["state"]


def test_documents_previous_and_current():
    store = ShadowStore()
    first = update(store, {"state": {"reported": {"a": 1}}}, T0)
    assert first.documents["previous"] is None
    assert first.documents["current"] == {"state": {"reported": {"a": 1}},
                                          "metadata": {"reported": {"a": {"timestamp": T0}}},
                                          "version": 1}
    second = update(store, {"state": {"desired": {"a": 2}}}, T0 + 1)
    assert second.documents["previous"]["version"] == 1
    assert second.documents["current"]["version"] == 2
    assert "delta" not in second.documents["current"]["state"]
    assert second.documents["timestamp"] == T0 + 1


def test_array_metadata_has_one_entry_per_element():
    store = ShadowStore()
    result = update(store, {"state": {"desired": {"rgb": [255, 0, 0]}}}, 1)
    assert result.accepted["metadata"]["desired"] == {
        "rgb": [{"timestamp": 1}, {"timestamp": 1}, {"timestamp": 1}]}


def test_array_metadata_mirrors_objects_and_arrays_inside_it():
    """An element that is an object or an array gets metadata of its own shape, as in AWS's
    local shadow manager (ShadowStateMetadata.createMetadataPatch), not one flat timestamp."""
    store = ShadowStore()
    slots = [{"name": "a", "on": True}, [1, 2], "x"]
    result = update(store, {"state": {"reported": {"slots": slots}}}, 1)
    expected = {"slots": [{"name": {"timestamp": 1}, "on": {"timestamp": 1}},
                          [{"timestamp": 1}, {"timestamp": 1}], {"timestamp": 1}]}
    assert result.accepted["metadata"]["reported"] == expected
    assert store.get("badge", None, 2)["metadata"]["reported"] == expected


def test_nested_delta_keeps_only_the_path_to_differing_leaves():
    desired = {"lights": {"color": {"r": 0, "g": 255}, "on": True}, "fan": 1}
    reported = {"lights": {"color": {"r": 0, "g": 0}, "on": True}, "fan": 1, "extra": 5}
    assert compute_delta(desired, reported) == {"lights": {"color": {"g": 255}}}


@pytest.mark.parametrize("desired, reported, delta", [
    ({"a": 1}, {"a": 1.0}, {}),                 # numbers compare numerically
    ({"a": True}, {"a": 1}, {"a": True}),       # but true is not 1
    ({"a": "1"}, {"a": 1}, {"a": "1"}),
    ({"a": [1, 2]}, {"a": [2, 1]}, {"a": [1, 2]}),  # arrays whole, order matters
    ({"a": [1, 2]}, {"a": [1, 2]}, {}),
    ({"a": {"b": 1}}, {}, {"a": {"b": 1}}),     # missing in reported: whole subtree
    ({}, {"only_reported": 1}, {}),             # reported-only keys never appear
    ({"a": {"b": 1}}, {"a": 7}, {"a": {"b": 1}}),
])
def test_delta_rules(desired, reported, delta):
    assert compute_delta(desired, reported) == delta


def test_same_value_types():
    assert same_value(1, 1.0) and not same_value(False, 0) and not same_value(None, 0)
    assert same_value({"a": [1, {"b": 2.0}]}, {"a": [1.0, {"b": 2}]})


def test_reported_equal_to_desired_gives_no_delta():
    store = ShadowStore()
    update(store, {"state": {"desired": {"name": "Ada"}}}, T0)
    result = update(store, {"state": {"reported": {"name": "Ada"}}}, T0 + 1)
    assert result.delta is None
    assert "delta" not in store.get("badge", None, T0 + 2)["state"]


def test_null_deletes_a_key_its_metadata_and_its_delta():
    store = ShadowStore()
    update(store, {"state": {"desired": {"name": "Ada", "qr": "x"}, "reported": {"qr": "x"}}}, T0)
    result = update(store, {"state": {"desired": {"name": None}}}, T0 + 1)
    assert result.delta is None
    doc = store.get("badge", None, T0 + 2)
    assert doc["state"] == {"desired": {"qr": "x"}, "reported": {"qr": "x"}}
    assert doc["metadata"]["desired"] == {"qr": {"timestamp": T0}}


def test_nested_null_keeps_the_emptied_parent_and_new_all_null_subtree_creates_nothing():
    store = ShadowStore()
    update(store, {"state": {"reported": {"net": {"ip": "10.0.0.2"}}}}, T0)
    update(store, {"state": {"reported": {"net": {"ip": None}, "new": {"x": None}}}}, T0 + 1)
    assert store.get("badge", None, T0 + 2)["state"] == {"reported": {"net": {}}}


def test_section_null_and_state_null():
    store = ShadowStore()
    update(store, {"state": {"desired": {"a": 1}, "reported": {"b": 2}}}, T0)
    update(store, {"state": {"desired": None}}, T0 + 1)
    assert store.get("badge", None, T0 + 2)["state"] == {"reported": {"b": 2}}
    result = update(store, {"state": None}, T0 + 3)
    assert result.accepted["state"] is None
    doc = store.get("badge", None, T0 + 4)
    assert doc["state"] == {} and doc["version"] == 3  # the shadow still exists


def test_scalars_and_arrays_replace_whole_and_the_new_type_wins():
    store = ShadowStore()
    update(store, {"state": {"reported": {"a": [1, 2, 3], "b": {"c": 1}}}}, T0)
    update(store, {"state": {"reported": {"a": [9], "b": 5}}}, T0 + 1)
    doc = store.get("badge", None, T0 + 2)
    assert doc["state"]["reported"] == {"a": [9], "b": 5}
    assert doc["metadata"]["reported"] == {"a": [{"timestamp": T0 + 1}], "b": {"timestamp": T0 + 1}}


def test_metadata_changes_only_for_written_leaves():
    store = ShadowStore()
    update(store, {"state": {"reported": {"a": 1, "b": {"c": 1, "d": 2}}}}, T0)
    update(store, {"state": {"reported": {"b": {"c": 5}}}}, T0 + 9)
    assert store.get("badge", None, T0 + 10)["metadata"]["reported"] == {
        "a": {"timestamp": T0}, "b": {"c": {"timestamp": T0 + 9}, "d": {"timestamp": T0}}}


def test_versions_must_match_exactly():
    store = ShadowStore()
    for i in range(10):
        update(store, {"state": {"reported": {"n": i}}}, T0 + i)
    assert store.get("badge", None, T0)["version"] == 10
    assert rejected(update, store, {"state": {"reported": {"n": 0}}, "version": 9}, T0) == \
        (409, "Version conflict")
    assert rejected(update, store, {"state": {"reported": {"n": 0}}, "version": 11}, T0) == \
        (409, "Version conflict")
    assert store.get("badge", None, T0)["state"]["reported"] == {"n": 9}  # nothing changed
    assert update(store, {"state": {"reported": {"n": 0}}, "version": 10}, T0).accepted["version"] == 11


@pytest.mark.parametrize("version", [-1, 1.5, "3", True])
def test_malformed_version_is_400(version):
    assert rejected(validate_update, {"state": {}, "version": version}) == (400, "Invalid version")


def test_delete_keeps_the_version_and_get_after_delete_is_404():
    store = ShadowStore()
    for i in range(3):
        update(store, {"state": {"reported": {"n": i}}}, T0)
    assert store.delete("badge", None, T0 + 5) == {"version": 3, "timestamp": T0 + 5}
    assert rejected(store.get, "badge", None, T0 + 6) == (404, "No shadow exists with name: 'badge'")
    assert rejected(store.delete, "badge", None, T0 + 6)[0] == 404
    # Re-created within 48 h: continues from the tombstone; a versioned update must say 3.
    assert rejected(update, store, {"state": {"reported": {}}, "version": 0}, T0 + 7)[0] == 409
    assert update(store, {"state": {"reported": {"n": 1}}, "version": 3}, T0 + 7).accepted["version"] == 4


def test_tombstone_expires_after_48_hours():
    store = ShadowStore()
    update(store, {"state": {"reported": {"n": 1}}}, T0)
    update(store, {"state": {"reported": {"n": 2}}}, T0)
    store.delete("badge", None, T0)
    result = update(store, {"state": {"reported": {"n": 3}}}, T0 + 48 * 3600)
    assert result.accepted["version"] == 1
    assert result.documents["previous"] is None


def test_named_shadows_are_independent_and_404_quotes_the_shadow_name():
    store = ShadowStore()
    update(store, {"state": {"reported": {"a": 1}}}, T0)
    update(store, {"state": {"reported": {"b": 1}}}, T0, name="config")
    update(store, {"state": {"reported": {"b": 2}}}, T0, name="config")
    assert store.get("badge", None, T0)["version"] == 1
    assert store.get("badge", "config", T0)["version"] == 2
    assert rejected(store.get, "badge", "other", T0) == (404, "No shadow exists with name: 'other'")


def test_size_limit_counts_the_merged_document():
    store = ShadowStore()
    update(store, {"state": {"desired": {"big": "x" * 4000}}}, T0)
    update(store, {"state": {"reported": {"big": "y" * 4000}}}, T0)
    # Together about 8030 bytes: a tiny update now crosses 8192.
    code, message = rejected(update, store, {"state": {"reported": {"more": "z" * 200}}}, T0)
    assert (code, message) == (413, "The payload exceeds the maximum size allowed")
    assert store.get("badge", None, T0)["version"] == 2


def test_depth_limit_is_5_levels_of_keys_under_desired():
    five = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    six = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    validate_update({"state": {"desired": five}})
    assert rejected(validate_update, {"state": {"desired": six}}) == (
        400, "JSON contains too many levels of nesting; maximum is 6")


@pytest.mark.parametrize("request_body, message", [
    ({"clientToken": "t"}, "Missing required node: state"),
    ({"state": 5}, "State node must be an object"),
    ({"state": {"desired": [1]}}, "Desired node must be an object"),
    ({"state": {"reported": "x"}}, "Reported node must be an object"),
    ({"state": {"wanted": {}}}, "State contains an invalid node"),
    ({"state": {"desired": {"a": [1, None]}}}, "State contains an invalid node"),
])
def test_malformed_updates_are_400(request_body, message):
    assert rejected(validate_update, request_body) == (400, message)


def test_state_delta_in_a_request_is_ignored():
    patch, version = validate_update({"state": {"reported": {"a": 1}, "delta": {"x": 1}}})
    assert patch == {"reported": {"a": 1}} and version is None


def test_parse_request_errors():
    assert rejected(parse_request, b"\xff\xfe") == (
        415, "Unsupported documented encoding; supported encoding is UTF-8")
    assert rejected(parse_request, b"{not json") == (400, "Invalid JSON")
    assert rejected(parse_request, b"[1]") == (400, "Invalid JSON")
    assert rejected(parse_request, b'{"a": NaN}') == (400, "Invalid JSON")
    assert parse_request(json.dumps({"state": {}}).encode()) == {"state": {}}


def test_client_token_rules():
    assert client_token({}) is None
    assert client_token({"clientToken": "x" * 64}) == "x" * 64
    assert rejected(client_token, {"clientToken": "x" * 65}) == (400, "Invalid clientToken")
    assert rejected(client_token, {"clientToken": 5}) == (400, "Invalid clientToken")


def test_error_documents_omit_timestamp_for_404_and_409():
    assert ShadowError(409, "Version conflict").document(T0, "t") == {
        "code": 409, "message": "Version conflict", "clientToken": "t"}
    assert ShadowError(400, "Invalid JSON").document(T0) == {
        "code": 400, "message": "Invalid JSON", "timestamp": T0}
