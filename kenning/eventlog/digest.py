"""The digest of an eventlog, and the first difference between two of them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apsw

from kenning import FORMAT_VERSION
from kenning.eventlog.events import Event

_COLUMNS = "seq, event_id, event_type, timestamp, source_id, source_file, data"


@dataclass(frozen=True)
class Digest:
    sha256: str
    total: int
    counts: dict[str, int]  # per event type, sorted by type
    format_version: int


def rows(conn: apsw.Connection) -> Iterator[tuple[int, str, Event]]:
    """(seq, event_id, event) in seq order."""
    for seq, event_id, *fields in conn.execute(f"SELECT {_COLUMNS} FROM eventlog ORDER BY seq"):
        yield seq, event_id, Event(*fields)


def digest(conn: apsw.Connection) -> Digest:
    """SHA-256 over the canonical encoding of every event in seq order, with its seq."""
    h = hashlib.sha256(f"kenning-eventlog-format-{FORMAT_VERSION}\n".encode())
    counts: dict[str, int] = {}
    total = 0
    for seq, _event_id, event in rows(conn):
        total += 1
        if seq != total:
            raise ValueError(f"seq is not dense: row {total} has seq {seq}")
        h.update(f"{seq}\t".encode())
        h.update(event.canonical().encode("utf-8"))
        h.update(b"\n")
        counts[event.event_type] = counts.get(event.event_type, 0) + 1
    return Digest(h.hexdigest(), total, dict(sorted(counts.items())), FORMAT_VERSION)


@dataclass(frozen=True)
class Difference:
    seq: int
    ours: Event | None
    theirs: Event | None


def first_difference(ours: apsw.Connection, theirs: apsw.Connection) -> Difference | None:
    left, right = rows(ours), rows(theirs)
    seq = 0
    while True:
        seq += 1
        a, b = next(left, None), next(right, None)
        if a is None and b is None:
            return None
        if a is None or b is None or a[0] != b[0] or a[2] != b[2]:
            return Difference(seq, a[2] if a else None, b[2] if b else None)


@dataclass(frozen=True)
class LogFingerprint:
    """What a digest file records about the eventlog (see kenning.materialize.digest)."""

    digest: Digest
    type_sha256: dict[str, str]  # per event type: SHA-256 over its events in seq order
    event_hashes: list[str]  # per seq: the first 16 hex digits of sha256(canonical)
    dense: bool  # seq is exactly 1..N
    id_mismatches: int  # rows whose stored event_id is not the hash of their content


def fingerprint(conn: apsw.Connection) -> LogFingerprint:
    """The digest plus per-type hashes and per-event content hashes, in one pass."""
    h = hashlib.sha256(f"kenning-eventlog-format-{FORMAT_VERSION}\n".encode())
    per_type: dict[str, Any] = {}
    counts: dict[str, int] = {}
    hashes: list[str] = []
    dense = True
    mismatches = 0
    for seq, event_id, event in rows(conn):
        encoded = event.canonical().encode("utf-8")
        content_id = hashlib.sha256(encoded).hexdigest()
        hashes.append(content_id[:16])
        dense = dense and seq == len(hashes)
        mismatches += content_id != event_id
        h.update(f"{seq}\t".encode())
        h.update(encoded)
        h.update(b"\n")
        t = event.event_type
        counts[t] = counts.get(t, 0) + 1
        per_type.setdefault(t, hashlib.sha256()).update(encoded + b"\n")
    total = len(hashes)
    d = Digest(h.hexdigest(), total, dict(sorted(counts.items())), FORMAT_VERSION)
    return LogFingerprint(d, {t: per_type[t].hexdigest() for t in sorted(per_type)},
                          hashes, dense, mismatches)
