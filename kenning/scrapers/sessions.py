"""session.* events from the session notes committed under the recipe's session paths.

Units: one per markdown file under `ScrapeOptions.session_paths` in the tree at
the target commit. A unit's events depend on its blob, on the time the file
first entered history (the start time of a note that names none), and on the
tags that exist (a session names its start tag; the tag's commit is its link
into history). The fingerprint holds all three (the engine adds the scraper's
version, kenning/scrapers/versions.py), so an unchanged file is never read
again unless one of them moves. The tag part is one hash over every tag: a new
tag re-reads every session file (cheap; reading the blobs in `units` to learn
which tag each names would cost more on every scrape).

With `--worktree`, files on disk under the session paths whose content differs
from the committed one (or that are not committed) are read from disk.

Times: an item's time is its block's `HH:MM` on the session's local date,
turned into UTC with the session's offset. The offset is the local start in
the session id or file name (`YYYYMMDD-HHMMSS`) against the UTC start
(`**Started**:` / `created`); failing that, an explicit offset on the start
time, or the first block's `HH:MM` against the UTC start; else UTC. A block
earlier than the one before it is on the next day.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from kenning.eventlog.events import Event, canonical_json, make_event, utc_timestamp
from kenning.processes import worker_pool
from kenning.scrapers.base import ScrapeContext, UnitResult
from kenning.scrapers.sessions_parse import ParsedSession, local_stamp, parse_session, shorten

MAX_BYTES = 256 << 10  # longer files are read up to here (a session note is a few KB;
# markdown-it needs ~2 s for 256 KB of one-word bullets, the worst case)
_EXTENSIONS = (".md", ".markdown")
_SYMLINK = "120000"
_TAG_SPLIT = re.compile(r"\s*(?:,|\.\.|\s)\s*")
_json_str = json.encoder.encode_basestring  # a str as canonical_json writes it (no ASCII escapes)


@dataclass(frozen=True)
class _Source:
    path: str
    blob: str | None  # committed content, or None: read from disk
    fingerprint: str
    missing: bool = False  # this clone lacks the blob (never fetched): skipped, counted


class SessionScraper:
    name = "sessions"

    def __init__(self) -> None:
        self._plan: dict[str, _Source] | None = None

    def units(self, ctx: ScrapeContext) -> dict[str, str]:
        return {path: src.fingerprint for path, src in self._sources(ctx).items()}

    def scrape(self, ctx: ScrapeContext, units: Sequence[str]) -> Iterator[UnitResult]:
        sources = self._sources(ctx)
        wanted = [sources[u] for u in sorted(units) if u in sources]
        history = ctx.history()
        fallback: list[str] = []

        def fallback_start(path: str) -> str:
            if path in history.first_added:
                return history.first_added[path]
            if not fallback:  # not committed (a --worktree file): the target's time
                fallback.append(utc_timestamp(ctx.repo.commit_time(ctx.target)))
            return fallback[0]

        # Blobs are read in file order while the first batches are already being parsed.
        blobs = _Blobs(ctx.repo.read_blobs(
            dict.fromkeys(s.blob for s in wanted if s.blob and not s.missing)))
        workers = ctx.options.workers if len(wanted) >= _PARALLEL_FROM else 1
        with _Batches(history.tags, workers) as batches:
            with blobs:
                for src in wanted:
                    if src.missing:
                        yield UnitResult(src.path, [], "skipped:missing-blob")
                        continue
                    data = (_read_disk(ctx.repo.root, src.path) if src.blob is None
                            else blobs.get(src.blob))
                    if data is None:
                        ctx.warn("cannot be read", kind="session-note", where=f"{src.path}:1")
                        yield UnitResult(src.path, [], "error:unreadable")
                    else:
                        batches.add((src.path, data, fallback_start(src.path)))
            yield from self._results(ctx, batches.results())

    def _results(self, ctx: ScrapeContext, done: Iterator[_Done]) -> Iterator[UnitResult]:
        for path, events, problems in done:
            if problems:
                line, reason = problems[0]
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                ctx.warn(f"{reason}{more}", kind="session-note", where=f"{path}:{line}")
            yield UnitResult(path, events, "partial" if problems else "ok")

    def _sources(self, ctx: ScrapeContext) -> dict[str, _Source]:
        if self._plan is None:
            self._plan = _plan(ctx)
        return self._plan


_Job = tuple[str, bytes, str]  # path, content, fallback start time
_Done = tuple[str, list[Event], list[tuple[int, str]]]
_Row = tuple[str, str, str, str | None, str]  # an Event's fields: what a worker sends back
_PARALLEL_FROM = 64  # files; below this a process pool costs more than it saves
_BATCH = 32


def _events_batch(batch: list[_Job], tags: dict[str, str]) -> list[_Done]:
    # Parsing makes no reference cycles, only many short-lived objects: the cyclic
    # collector would walk them (and, in a forked worker, the parent's whole heap)
    # for nothing, so it waits until the batch is done.
    paused = gc.isenabled()
    gc.disable()
    try:
        return [_events_one(path, data, start, tags) for path, data, start in batch]
    finally:
        if paused:
            gc.enable()


def _events_one(path: str, data: bytes, start: str, tags: dict[str, str]) -> _Done:
    try:
        return path, *session_events(path, data, start, tags)
    except Exception as exc:  # a bug costs one note, never the scrape (the fuzz tests in
        # tests/test_sessions_fuzz.py look for such bugs)
        reason = f"cannot be read (a bug in kenning: {type(exc).__name__}: {exc})"
        return path, [], [(1, reason.replace("\n", " ")[:300])]


def _rows_batch(batch: list[_Job], tags: dict[str, str]
                ) -> list[tuple[str, list[_Row], list[tuple[int, str]]]]:
    """_events_batch in a worker: plain tuples pickle in C, Event objects do not."""
    return [(path, [(e.event_type, e.timestamp, e.source_id, e.source_file, e.data)
                    for e in events], problems)
            for path, events, problems in _events_batch(batch, tags)]


class _Batches:
    """Jobs in batches of _BATCH; with workers > 1, each full batch goes to a process pool
    as soon as it is added. `results()` gives every job's events in job order."""

    def __init__(self, tags: dict[str, str], workers: int) -> None:
        self.tags = tags
        self.workers = workers
        self.batch: list[_Job] = []
        self.waiting: list[list[_Job]] = []  # batches to parse here
        self.futures: list[Future[list[tuple[str, list[_Row], list[tuple[int, str]]]]]] = []
        self.pool: ProcessPoolExecutor | None = None

    def add(self, job: _Job) -> None:
        self.batch.append(job)
        if len(self.batch) == _BATCH:
            self._flush()

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        if self.workers <= 1:
            self.waiting.append(batch)
            return
        if self.pool is None:
            self.pool = worker_pool(self.workers)
        self.futures.append(self.pool.submit(_rows_batch, batch, self.tags))

    def results(self) -> Iterator[_Done]:
        if self.batch:
            self._flush()
        for batch in self.waiting:
            yield from _events_batch(batch, self.tags)
        for future in self.futures:
            for path, rows, problems in future.result():
                yield path, [Event(*row) for row in rows], problems

    def __enter__(self) -> _Batches:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _Blobs:
    """Blob contents by id from one streaming read: `get` reads on until the id comes."""

    def __init__(self, stream: Iterator[tuple[str, bytes]]) -> None:
        self.stream = stream
        self.read: dict[str, bytes] = {}

    def get(self, object_id: str) -> bytes | None:
        while object_id not in self.read:
            item = next(self.stream, None)
            if item is None:
                return None  # missing from the repository
            self.read[item[0]] = item[1]
        return self.read[object_id]

    def __enter__(self) -> _Blobs:
        return self

    def __exit__(self, *exc: object) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()  # ends the `git cat-file` process


def _plan(ctx: ScrapeContext) -> dict[str, _Source]:
    history = ctx.history()
    tags = hashlib.sha256(canonical_json(sorted(history.tags.items())).encode()).hexdigest()
    paths = list(ctx.options.session_folders())
    entries = [e for e in (ctx.repo.ls_tree(ctx.target, paths) if paths else [])
               if e.kind == "blob" and e.mode != _SYMLINK and e.path.lower().endswith(_EXTENSIONS)]
    committed = {e.path: e.object_id for e in entries}
    missing = {e.path for e in entries if e.missing}

    def fingerprint(content: str, path: str) -> str:
        added = history.first_added.get(path) or f"target {ctx.target}"
        return f"{content}|{added}|tags {tags[:16]}"

    plan = {p: _Source(p, oid, fingerprint(f"{'missing ' if p in missing else ''}blob {oid}", p),
                       missing=p in missing) for p, oid in committed.items()}
    if ctx.options.worktree:
        for path, data in _disk_files(ctx.repo.root, paths):
            if committed.get(path) != _git_blob_id(data):
                digest = hashlib.sha256(data).hexdigest()
                plan[path] = _Source(path, None, fingerprint(f"disk {digest}", path))
    return dict(sorted(plan.items()))


def _disk_files(root: Path, paths: list[str]) -> Iterator[tuple[str, bytes]]:
    seen: set[str] = set()
    for rel in paths:
        base = root / rel
        candidates = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for file in candidates:
            if file.is_symlink() or not file.is_file():
                continue
            if not file.name.lower().endswith(_EXTENSIONS) or ".git" in file.parts:
                continue
            path = file.relative_to(root).as_posix()
            if path not in seen:
                seen.add(path)
                yield path, file.read_bytes()


def _read_disk(root: Path, path: str) -> bytes | None:
    try:
        return (root / path).read_bytes()
    except OSError:
        return None


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324


# -- events ---------------------------------------------------------------------


def session_events(
    path: str, data: bytes, fallback_start: str, tags: dict[str, str]
) -> tuple[list[Event], list[tuple[int, str]]]:
    """Every event of one session file, and what was wrong with it as (line, reason)."""
    text, problems = _decode(data)
    parsed = parse_session(text)
    problems.extend(parsed.problems)
    clock = _Clock.of(path, parsed, fallback_start, problems)
    fields = parsed.fields
    stem = PurePosixPath(path).stem
    sid = fields.get("id") or stem
    named_tags = _tags(fields, parsed.classification)
    tag_commits = {t: tags[t] for t in named_tags if t in tags}
    start_tag = fields.get("start_tag")
    starting_commit = fields.get("starting_commit")
    link = starting_commit or tag_commits.get(start_tag or "") or next(
        iter(tag_commits.values()), None)

    def event(kind: str, when: datetime, payload: dict[str, Any]) -> Event:
        return make_event(f"session.{kind}", _stamp(when), sid, path,
                          {"session_id": sid, **payload})

    events = [event("started", clock.start, {
        "title": fields.get("title") or stem, "format": parsed.shape,
        "branch": fields.get("branch"), "started": _stamp(clock.start),
        "local_start": clock.local_start, "utc_offset": _offset_text(clock.offset),
        "time_source": clock.source, "starting_commit": starting_commit,
        "start_tag": start_tag, "tags": named_tags, "tag_commits": tag_commits,
        "commit": link, "status": fields.get("status"), "llm": fields.get("llm"),
    })]
    events.extend(_item_events(parsed, clock, sid, path))
    if parsed.classification or parsed.blocks:
        c = parsed.classification
        lowered = {k.lower(): v for k, v in c.items()}
        end_tags = [t for t in named_tags if t != start_tag and t in tag_commits]
        events.append(event("ended", clock.end, {
            "classification": lowered.get("work type"),
            "files_changed": _leading_int(lowered.get("files changed")),
            "commits": _leading_int(lowered.get("commits")),
            "fields": c, "blocks": len(parsed.blocks),
            "items": len(parsed.items),
            "end_commit": tag_commits[end_tags[-1]] if end_tags else None,
        }))
    problems.sort()
    return events, problems


def _item_events(parsed: ParsedSession, clock: _Clock, sid: str, path: str) -> list[Event]:
    """One event per item. Their payloads are written as canonical JSON directly: this is
    `canonical_json` of {session_id, section, block, index, line, text} plus `completed`
    (goals) or `block_title` (the rest), keys in sorted order (test_sessions_payloads checks it)."""
    sid_json = _json_str(sid)
    tail = f',"session_id":{sid_json},"text":'
    start = _stamp(clock.start)
    stamps = [_stamp(t) for t in clock.block_times]
    titles = [_json_str(b.title) for b in parsed.blocks]
    sections: dict[str, str] = {}
    types: dict[str, str] = {}
    counters: dict[tuple[str, int | None], int] = {}
    events = []
    for item in parsed.items:
        key = (item.section, item.block)
        index = counters.get(key, 0)
        counters[key] = index + 1
        section = sections.get(item.section)
        if section is None:
            section = sections[item.section] = _json_str(item.section)
        block = "null" if item.block is None else str(item.block)
        if item.kind == "goal":
            second = ',"completed":' + ("true" if item.completed else "false")
        else:
            title = "null" if item.block is None else titles[item.block]
            second = ',"block_title":' + title
        data = (f'{{"block":{block}{second},"index":{index},"line":{item.line},'
                f'"section":{section}{tail}{_json_str(item.text)}}}')
        # its block's time, else the last block's before it, else the session start
        at = item.block if item.block is not None else item.after_block
        event_type = types.get(item.kind)
        if event_type is None:
            event_type = types[item.kind] = f"session.{item.kind}"
        events.append(Event(event_type, stamps[at] if at is not None else start, sid, path,
                            data))
    return events


def _decode(data: bytes) -> tuple[str, list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = []
    if len(data) > MAX_BYTES:
        cut = data.rfind(b"\n", 0, MAX_BYTES)
        data = data[: cut if cut > 0 else MAX_BYTES]
        problems.append((1, f"longer than {MAX_BYTES} bytes: read only the start"))
    if b"\0" in data:
        problems.append((1, "binary content (NUL bytes): read as text"))
        data = data.replace(b"\0", b"")
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and "\ufffd".encode() not in data:
        problems.append((1, "not valid UTF-8: undecodable bytes replaced"))
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, problems


def _tags(fields: dict[str, str], classification: dict[str, str]) -> list[str]:
    raw = [fields.get("start_tag", ""), fields.get("tags", "")]
    raw += [v for k, v in sorted(classification.items()) if k.lower() in ("session tags", "tags")]
    seen: list[str] = []
    for chunk in raw:
        for tag in _TAG_SPLIT.split(chunk.strip().strip("`")):
            tag = tag.strip("`")
            if tag and tag not in seen:
                seen.append(tag)
    return seen


def _leading_int(value: str | None) -> int | None:
    match = re.match(r"\s*(\d{1,18})(?!\d)", value or "")  # longer is no count (and no int64)
    return int(match.group(1)) if match else None


# -- time -----------------------------------------------------------------------


@dataclass
class _Clock:
    start: datetime  # UTC, naive
    offset: int  # minutes east of UTC
    source: str  # where the start came from: header, file_name, commit
    block_times: list[datetime]  # UTC, one per block

    @property
    def local_start(self) -> str:
        return _stamp(self.start + timedelta(minutes=self.offset))[:-1]

    @property
    def end(self) -> datetime:
        return self.block_times[-1] if self.block_times else self.start

    @classmethod
    def of(cls, path: str, parsed: ParsedSession, fallback: str,
           problems: list[tuple[int, str]]) -> _Clock:
        stamp = local_stamp(parsed.fields.get("id", "")) or local_stamp(PurePosixPath(path).name)
        written = parsed.fields.get("started")
        line = parsed.lines.get("started", 1)
        start, explicit = _parse_time(written)
        if written and start is None:
            problems.append((line, f"start time {shorten(written)!r} is not an ISO time"))
        source = "header"
        offset: int | None = None
        if start is not None and stamp is not None:
            offset = _round15((stamp - start).total_seconds() / 60)
            if abs(offset) > 14 * 60:
                problems.append((line, "local and UTC start times are more than 14 hours apart"))
                offset = None
        if start is not None and offset is None:
            if explicit:
                offset = explicit
            elif parsed.blocks:
                diff = parsed.blocks[0].minutes - (start.hour * 60 + start.minute)
                offset = _round15((diff + 720) % 1440 - 720)
        if start is None and stamp is not None:
            start, source = stamp, "file_name"  # no UTC start: the stamp is taken as UTC
        if start is None:
            start, source = datetime.strptime(fallback, "%Y-%m-%dT%H:%M:%SZ"), "commit"
        offset = offset or 0
        try:
            start + timedelta(minutes=offset)  # the local start is shown too
        except OverflowError:
            problems.append((line, "the local start time is outside the years 1 to 9999"))
            offset = 0
        try:
            times = _block_times(start, offset, parsed)
        except OverflowError:
            problems.append((1, "block times run past the year 9999"))
            times = [start] * len(parsed.blocks)
        return cls(start, offset, source, times)


def _block_times(start: datetime, offset: int, parsed: ParsedSession) -> list[datetime]:
    local = start + timedelta(minutes=offset)
    day = local.date()
    previous = local.hour * 60 + local.minute
    times = []
    for n, block in enumerate(parsed.blocks):
        # the first block may sit just before the start (a rounded stamp); later ones
        # that go back in time crossed midnight
        if (block.minutes < previous - 720) if n == 0 else (block.minutes < previous):
            day += timedelta(days=1)
        previous = block.minutes
        at = datetime(day.year, day.month, day.day, block.minutes // 60, block.minutes % 60)
        times.append(at - timedelta(minutes=offset))
    return times


def _parse_time(text: str | None) -> tuple[datetime | None, int]:
    """A start time as naive UTC, and the offset it was written with (0 for Z or none)."""
    if not text:
        return None, 0
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None, 0
    if value.tzinfo is None:
        return value, 0
    delta = value.utcoffset() or timedelta(0)
    try:
        return value.astimezone(UTC).replace(tzinfo=None), int(delta.total_seconds() // 60)
    except OverflowError:
        return None, 0


def _round15(minutes: float) -> int:
    return int(round(minutes / 15)) * 15


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _stamp(value: datetime) -> str:
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z")

