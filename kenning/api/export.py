"""Exporting the eventlog for other tools: JSON Lines (streamed) and Parquet (pyarrow).

Both hold one row per event in `seq` order with the eventlog's columns. In JSON
Lines each line is a canonical JSON object (sorted keys, no whitespace, UTF-8)
whose `data` is the stored canonical payload, byte for byte, so
`sha256(canonical([event_type, timestamp, source_id, source_file, data]))`
recomputes `event_id`. Parquet keeps `data` as JSON text (DuckDB: `data ->> 'sha'`).
pyarrow is an optional extra: `pip install 'kenning[parquet]'`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import apsw

from kenning.errors import KenningError
from kenning.eventlog.events import canonical_json
from kenning.eventlog.reader import log_rows

FORMATS = ("jsonl", "parquet")
_ROW_GROUP = 50_000


def jsonl_lines(conn: apsw.Connection) -> Iterator[str]:
    """One canonical JSON object per event, in seq order, each ending in a newline."""
    for seq, event_id, event_type, timestamp, source_id, source_file, data in log_rows(conn):
        head = canonical_json({"event_id": event_id, "event_type": event_type, "seq": seq,
                               "source_file": source_file, "source_id": source_id,
                               "timestamp": timestamp})
        # "data" sorts first; the stored payload is already canonical JSON
        yield '{"data":' + data + "," + head[1:] + "\n"


def write_jsonl(conn: apsw.Connection, stream: IO[bytes]) -> int:
    n = 0
    for line in jsonl_lines(conn):
        stream.write(line.encode("utf-8"))
        n += 1
    return n


def write_parquet(conn: apsw.Connection, path: Path) -> int:
    """Write the log to a Parquet file (atomically: a temporary file, then a rename)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise KenningError("--format parquet needs pyarrow, which is not installed: "
                           "pip install 'kenning[parquet]'") from exc
    schema = pa.schema([("seq", pa.int64()), ("event_id", pa.string()),
                        ("event_type", pa.string()), ("timestamp", pa.string()),
                        ("source_id", pa.string()), ("source_file", pa.string()),
                        ("data", pa.string())])
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    try:
        with pq.ParquetWriter(str(tmp), schema) as writer:
            batch: list[tuple[Any, ...]] = []
            for row in log_rows(conn):
                batch.append(row)
                if len(batch) >= _ROW_GROUP:
                    writer.write_table(_table(pa, schema, batch))
                    n += len(batch)
                    batch = []
            if batch or n == 0:
                writer.write_table(_table(pa, schema, batch))
                n += len(batch)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _table(pa: Any, schema: Any, rows: list[tuple[Any, ...]]) -> Any:
    columns: list[Any] = (list(zip(*rows, strict=True)) if rows
                          else [[] for _ in schema.names])
    return pa.Table.from_arrays([pa.array(list(c), type=f.type)
                                 for c, f in zip(columns, schema, strict=True)], schema=schema)


def export(conn: apsw.Connection, fmt: str, output: Path | None, stdout: IO[bytes]) -> int:
    """Export the log in `fmt` to `output` (or `stdout` for jsonl); returns the event count."""
    if fmt not in FORMATS:
        raise KenningError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "parquet":
        if output is None:
            raise KenningError("--format parquet writes a file: give --output FILE")
        return write_parquet(conn, output)
    if output is None:
        return write_jsonl(conn, stdout)
    tmp = output.with_name(output.name + ".tmp")
    try:
        with tmp.open("wb") as f:
            n = write_jsonl(conn, f)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return n
