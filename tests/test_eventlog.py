"""The eventlog's encoding, ordering and bookkeeping (DESIGN.md §2)."""

from __future__ import annotations

import json
from pathlib import Path

import apsw
from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.eventlog import database
from kenning.eventlog.digest import digest
from kenning.eventlog.events import Event, canonical_json, make_event, utc_timestamp
from kenning.eventlog.store import EventStore


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]}) == (
        '{"a":[1,{"c":null,"d":"é"}],"b":1}'
    )


# what event payloads hold: any text (control characters, quotes, non-BMP), 64-bit ints
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_canonical_json_is_what_the_standard_library_writes(value: object) -> None:
    # digests made before the switch to orjson stay valid only if this holds
    assert canonical_json(value) == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_event_id_is_the_hash_of_the_canonical_encoding() -> None:
    event = make_event("git.commit", "2024-01-01T00:00:00Z", "abc", None, {"z": 1, "a": 2})
    assert event.canonical() == '["git.commit","2024-01-01T00:00:00Z","abc",null,{"a":2,"z":1}]'
    same = make_event("git.commit", "2024-01-01T00:00:00Z", "abc", None, {"a": 2, "z": 1})
    assert event.event_id == same.event_id
    other = make_event("git.commit", "2024-01-01T00:00:00Z", "abc", "f.py", {"a": 2, "z": 1})
    assert event.event_id != other.event_id


def test_utc_timestamp_is_fixed_width_utc() -> None:
    assert utc_timestamp(0) == "1970-01-01T00:00:00Z"
    assert utc_timestamp(1_700_000_000) == "2023-11-14T22:13:20Z"


def _store(tmp_path: Path) -> tuple[apsw.Connection, EventStore]:
    conn = database.connect(tmp_path / "k.db", write=True, create=True)
    database.ensure_schema(conn)
    return conn, EventStore(conn)


def _log(conn: apsw.Connection) -> list[tuple[int, str]]:
    return conn.execute("SELECT seq, source_id FROM eventlog ORDER BY seq").fetchall()


def _ev(day: int, source: str) -> Event:
    return make_event("t.x", f"2024-01-{day:02d}T00:00:00Z", source, None, {"s": source})


def test_a_late_event_lands_in_place_and_the_tail_is_renumbered(tmp_path: Path) -> None:
    conn, store = _store(tmp_path)
    store.add_unit("s", "u1", "f", "ok", [_ev(1, "a"), _ev(3, "c"), _ev(5, "e")])
    store.renumber()
    assert _log(conn) == [(1, "a"), (2, "c"), (3, "e")]
    store.add_unit("s", "u2", "f", "ok", [_ev(2, "b")])  # arrives late, belongs second
    store.renumber()
    assert _log(conn) == [(1, "a"), (2, "b"), (3, "c"), (4, "e")]
    store.remove_units("s", ["u2"])
    store.renumber()
    assert _log(conn) == [(1, "a"), (2, "c"), (3, "e")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 28), st.sampled_from("abcdef")),
                         max_size=4), min_size=1, max_size=6),
       st.lists(st.integers(0, 5), max_size=4))
def test_seq_is_dense_canonical_order_after_any_adds_and_removes(
    tmp_path_factory, units: list[list[tuple[int, str]]], removals: list[int]
) -> None:
    conn, store = _store(tmp_path_factory.mktemp("db"))
    for i, events in enumerate(units):
        unique = {e.event_id: e for e in (_ev(d, f"{s}{i}") for d, s in events)}
        store.add_unit("s", f"u{i}", "f", "ok", list(unique.values()))
        store.renumber()
    store.remove_units("s", sorted({f"u{r}" for r in removals if r < len(units)}))
    store.renumber()
    rows = conn.execute(
        "SELECT seq, timestamp, event_type, source_id, event_id FROM eventlog ORDER BY seq"
    ).fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert [r[1:] for r in rows] == sorted(r[1:] for r in rows)


def test_bookkeeping_tables_stay_out_of_the_digest(tmp_path: Path) -> None:
    conn, store = _store(tmp_path)
    store.add_unit("s", "u1", "f", "ok", [_ev(1, "a")])
    store.renumber()
    before = digest(conn).sha256
    conn.execute("INSERT INTO scrape_runs(finished_at, tool_version, options, added, removed,"
                 " seconds, warnings) VALUES ('now', 'x', '{}', 1, 0, 1.0, '[]')")
    conn.execute("UPDATE scrape_units SET status = 'changed'")
    database.set_meta(conn, "anything", "else")
    assert digest(conn).sha256 == before


def test_the_database_records_its_schema_and_format_version(tmp_path: Path) -> None:
    conn, _ = _store(tmp_path)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert meta["schema_version"] == str(database.SCHEMA_VERSION)
    assert json.loads(meta["format_version"]) >= 1


def test_the_database_uses_wal(tmp_path: Path) -> None:
    conn, _ = _store(tmp_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
