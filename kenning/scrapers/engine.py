"""The scrape engine: runs scrapers against the database in one transaction.

For each scraper it compares the units the target commit has with the units
already stored, removes what is gone or changed, and writes what is new or
changed. A second `kenning scrape` at the same commit with the same options
does nothing at all.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from kenning import FORMAT_VERSION, __version__
from kenning.errors import KenningError
from kenning.eventlog import database, reader, state
from kenning.eventlog import store as eventstore
from kenning.eventlog.events import canonical_json
from kenning.eventlog.store import EventStore
from kenning.progress import Notice, Progress, Silent
from kenning.repository.gitrepo import GitRepo
from kenning.repository.timespec import Until, resolve_until
from kenning.scrapers import SCRAPERS, load
from kenning.scrapers.base import History, ScrapeContext, ScrapeOptions
from kenning.scrapers.versions import OPTIONS, VERSIONS


@dataclass
class ScrapeResult:
    target: str | None
    cutoff: str | None
    added: int = 0
    removed: int = 0
    unchanged: bool = False
    warnings: list[Notice] = field(default_factory=list)
    per_scraper: dict[str, tuple[int, int]] = field(default_factory=dict)  # units written, removed


def scrape(
    repo: GitRepo,
    db_path: Path,
    *,
    scrapers: Sequence[str] = (),
    until: str | None = None,
    at: Until | None = None,
    full: bool = False,
    options: ScrapeOptions | None = None,
    progress: Progress | None = None,
) -> ScrapeResult:
    options = options or ScrapeOptions()
    progress = progress or Silent()
    names = _selection(scrapers)
    head = repo.head()
    result = ScrapeResult(target=None, cutoff=None)
    if repo.is_shallow():
        result.warnings.append(Notice(
            "shallow", "this is a shallow clone: history before its oldest commit is missing, "
            "so the eventlog is incomplete (run `git fetch --unshallow` for all of it)"))
    if head is None:
        result.warnings.append(
            Notice("empty", "the repository has no commits yet; the eventlog is empty"))
    elif until is not None and not until.strip():
        raise KenningError("--until needs a date (YYYY-MM-DD), an ISO time or a revision")
    elif at or until:
        resolved = at or resolve_until(repo, head, until or "")
        result.target, result.cutoff = resolved.target, resolved.cutoff
    else:
        result.target = head

    with database.deleted_if_new_and_failed(db_path):
        conn = database.connect(db_path, write=True, create=True)
        started = time.monotonic()
        with database.write_transaction(conn, db_path):
            database.ensure_schema(conn)
            inputs = scrape_inputs(options, result.cutoff)
            # a new cutoff or encoding changes every event: start over (a changed scrape
            # option re-reads only its scrapers, through their fingerprints)
            if full or _whole_log(state.read(conn).inputs) != _whole_log(inputs):
                eventstore.clear(conn)
                state.new_epoch(conn)
            stored = state.read(conn)
            may_lack = bool(stored.missing_blobs) or repo.is_partial_clone()
            # tags are refs, not commits: a new tag on an unchanged HEAD is still news; a
            # deepened shallow clone, replace refs and grafts change what git shows; a
            # clone that lacks blobs may have gained some; and an upgraded scraper reads
            # the same commit differently
            here = f"{result.target or ''}:{repo.refs_fingerprint()}"
            if may_lack:
                here += f":{repo.objects_fingerprint()}"
            position = {n: f"{here}:{scraper_version(n, options)}" for n in names}
            if not options.worktree and all(stored.positions.get(n) == position[n]
                                            for n in names):
                result.unchanged = True
                if stored.missing_blobs:
                    result.warnings.append(missing_blobs_notice(stored.missing_blobs))
                return result
            writer = EventStore(conn)
            history_cache: list[History] = []

            def history() -> History:
                if not history_cache:
                    history_cache.append(read_history(conn))
                return history_cache[0]

            for name in names:
                ctx = ScrapeContext(repo, result.target or "", result.cutoff, options, history,
                                    objects_may_be_missing=may_lack)
                written, removed = _run_scraper(name, ctx, writer, progress)
                result.per_scraper[name] = (written, removed)
                result.warnings.extend(ctx.warnings)
                state.mark_scraped(conn, name, result.target or "", position[name])
                if name == "git":  # later scrapers read the history it just wrote
                    history_cache.clear()
            writer.renumber()
            result.added, result.removed = writer.added, writer.removed
            missing = _missing_blob_units(conn)
            if missing:
                result.warnings.append(missing_blobs_notice(missing))
            state.set_inputs(conn, inputs, reproducible=not options.worktree)
            state.set_missing_blobs(conn, missing)
            eventstore.record_run(
                conn, target=result.target, cutoff=result.cutoff, tool_version=__version__,
                options=options.fingerprint(), added=writer.added, removed=writer.removed,
                seconds=time.monotonic() - started, warnings=[str(w) for w in result.warnings])
    return result


def scrape_inputs(options: ScrapeOptions, cutoff: str | None) -> str:
    """What, besides the target commit, the eventlog is a function of."""
    return canonical_json({"options": options.fingerprint(), "cutoff": cutoff,
                           "format": FORMAT_VERSION})


def _whole_log(inputs: str | None) -> tuple[Any, ...]:
    """The inputs every event depends on: the --until cutoff and the encoding format."""
    value = json.loads(inputs) if inputs else {}
    return (value.get("cutoff"), value.get("format"))


def scraper_version(name: str, options: ScrapeOptions) -> str:
    """What a scraper's units depend on besides their own inputs: its version and the
    options it reads."""
    values = {k: getattr(options, k) for k in OPTIONS[name]}
    if not values:
        return f"v{VERSIONS[name]}"
    digest = hashlib.sha256(canonical_json(values).encode()).hexdigest()[:12]
    return f"v{VERSIONS[name]}:{digest}"


def _selection(scrapers: Sequence[str]) -> list[str]:
    unknown = [s for s in scrapers if s not in SCRAPERS]
    if unknown:
        raise KenningError(
            f"unknown scraper {unknown[0]!r}; choose from {', '.join(SCRAPERS)}"
        )
    if not scrapers:
        return list(SCRAPERS)
    # every other scraper reads git history, so git always runs first
    return [n for n in SCRAPERS if n in scrapers or n == "git"]


def _run_scraper(
    name: str, ctx: ScrapeContext, store: EventStore, progress: Progress
) -> tuple[int, int]:
    scraper = load(name)
    # units an older scraper, or one with other options, wrote are read again
    version = scraper_version(name, ctx.options) + "|"
    desired = {u: version + fp for u, fp in scraper.units(ctx).items()} if ctx.target else {}
    stored = store.stored_units(name)
    gone = sorted(u for u, fp in stored.items() if desired.get(u) != fp)
    fresh = sorted(u for u, fp in desired.items() if stored.get(u) != fp)
    store.remove_units(name, gone)
    if not fresh:
        return 0, len(gone)
    progress.start(name, len(fresh))
    try:
        for unit_result in scraper.scrape(ctx, fresh):
            events = unit_result.events
            if ctx.cutoff is not None:
                events = [e for e in events if e.timestamp <= ctx.cutoff]
            fingerprint = (version + unit_result.fingerprint if unit_result.fingerprint
                           else desired[unit_result.unit])
            store.add_unit(name, unit_result.unit, fingerprint, unit_result.status, events)
            progress.advance()
    finally:
        progress.finish()
    missing = set(fresh) - set(store.stored_units(name))
    if missing:
        raise KenningError(f"internal error: scraper {name} skipped units {sorted(missing)[:3]}")
    return len(fresh), len(gone)


def _missing_blob_units(conn: apsw.Connection) -> dict[str, int]:
    """Units that could not be read in full because this clone lacks their blobs,
    counted by "scraper status" (the whole log's, not just this run's)."""
    return {f"{scraper} {status}": n
            for scraper, by_status in reader.unit_statuses(conn).items()
            for status, n in by_status.items() if status.endswith(":missing-blob")}


def missing_blobs_notice(missing: dict[str, int]) -> Notice:
    """The one warning a scrape gives when the log depends on which blobs this clone has."""
    parts = [_missing_blob_phrase(key, n) for key, n in sorted(missing.items())]
    return Notice("missing-blob", "this clone lacks blobs the log needs (a partial clone or an "
                  f"incomplete mirror): {'; '.join(parts)}. The log differs from a full "
                  "clone's; kenning never fetches them")


def _missing_blob_phrase(key: str, n: int) -> str:
    def count(noun: str) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    if key == "git partial:missing-blob":
        return f"{count('commit')} without line counts"
    if key == "git skipped:missing-blob":
        return ".mailmap not applied"
    if key == "code skipped:missing-blob":
        return f"{count('code file')} skipped"
    if key == "sessions skipped:missing-blob":
        return f"{count('session note')} skipped"
    return count(f"{key} unit")


def read_history(conn: apsw.Connection) -> History:
    """What later scrapers need to know about the git history, from its events."""
    last_changed, first_added = reader.file_times(conn)
    return History(last_changed=last_changed, first_added=first_added,
                   tags=reader.tag_commits(conn))
