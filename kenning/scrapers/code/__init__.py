"""code.* events: tree-sitter facts from the source files at the target commit.

Units: one per file whose extension names a supported language, one with a
grammar or one read as plain text (`plain.py`: chunks only, also for
documentation files, except those under the recipe's session paths, which are
the sessions scraper's), plus every symlink with such an extension and every
submodule entry, which are skipped with a counted reason. A unit's fingerprint
is everything its events depend on: blob id, the time of the last first-parent
commit that changed the path, language and (added by the engine) the scraper's
version and options (the session paths among them).

Files come from git blobs, never the working tree. Facts are cached by
(blob, language, extractor version) outside the database, parsed in a process
pool, and turned into events here, in path order.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field

from kenning.eventlog.events import Event, utc_timestamp
from kenning.repository.gitrepo import TreeEntry
from kenning.scrapers.base import ScrapeContext, UnitResult
from kenning.scrapers.code.attributes import Attributes, attribute_files
from kenning.scrapers.code.cache import ParseCache, compress
from kenning.scrapers.code.extract import decode_facts
from kenning.scrapers.code.filters import content_skip, excluded, minified_name
from kenning.scrapers.code.languages import extension_map, language_of
from kenning.scrapers.code.plain import DOC_LANGUAGES, DOC_MAX_BYTES, PLAIN
from kenning.scrapers.code.pool import Job, parse_all

_SYMLINK = "120000"
Key = tuple[str, str]  # (blob id, language)


@dataclass
class CodeStats:
    files: int = 0
    cache_hits: int = 0
    parsed: int = 0
    parsed_bytes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


LAST_STATS = CodeStats()  # what the last scrape in this process did (read by tests and bench)


@dataclass(frozen=True)
class _Plan:
    entry: TreeEntry
    language: str | None
    skip: str | None  # a reason known before reading the blob


class CodeScraper:
    name = "code"

    def __init__(self) -> None:
        self.stats = CodeStats()
        self._plans: dict[str, _Plan] | None = None
        self._fallback_time: str | None = None

    def units(self, ctx: ScrapeContext) -> dict[str, str]:
        plans = self._plan(ctx)
        times = ctx.history().last_changed
        units = {}
        for path, plan in plans.items():
            entry = plan.entry
            if plan.skip is not None:  # so a file's fingerprint changes with its attributes
                units[path] = f"{plan.skip}:{entry.object_id}"
            else:
                when = times.get(path) or self._target_time(ctx)
                units[path] = f"{entry.object_id}:{when}:{plan.language}"
        return units

    def scrape(self, ctx: ScrapeContext, units: Sequence[str]) -> Iterator[UnitResult]:
        global LAST_STATS
        self.stats = LAST_STATS = CodeStats(files=len(units))
        plans = self._plan(ctx)
        wanted = sorted(units)
        keys: dict[Key, None] = {}  # in the order of the first path that holds each
        for path in wanted:
            plan = plans[path]
            if plan.skip is None:
                keys.setdefault((plan.entry.object_id, plan.language or ""), None)
        times = ctx.history().last_changed
        cache = ParseCache()
        fresh: dict[Key, tuple[bytes, bool]] = {}
        results = cache.get_many(sorted(keys))
        self.stats.cache_hits = len(results)
        # parsed in path order, so units go out while the workers parse on
        parsed = self._parse([k for k in keys if k not in results], ctx, cache, fresh)
        try:
            for path in wanted:
                plan = plans[path]
                status = "ok"
                events: list[Event] = []
                if plan.skip is not None:
                    status = f"skipped:{plan.skip}"
                else:
                    key = (plan.entry.object_id, plan.language or "")
                    found = results.get(key)
                    while found is None:
                        found = fresh.get(key)
                        if found is None and next(parsed, None) is None:  # all parsed
                            found = fresh.setdefault(
                                key, (b"error:git could not read the blob", False))
                    facts, partial = found
                    if facts.startswith(b"skip:"):
                        status = f"skipped:{facts[5:].decode()}"
                    elif facts.startswith(b"error:"):
                        status = "failed"
                        reason = facts[6:].decode()
                        ctx.warn(f"could not extract code facts ({reason})", kind="code",
                                 where=path)
                    else:
                        when = times.get(path) or self._target_time(ctx)
                        events = file_events(path, when, facts)
                        status = "partial" if partial else "ok"
                self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
                yield UnitResult(path, events, status)
        finally:
            try:
                parsed.close()  # writes what it has not written to the cache yet
            finally:
                cache.close()

    # -- helpers -------------------------------------------------------------

    def _plan(self, ctx: ScrapeContext) -> dict[str, _Plan]:
        if self._plans is not None:
            return self._plans
        options = ctx.options
        extensions = extension_map(options.code_extensions)
        plans = {}
        entries = ctx.repo.ls_tree(ctx.target)
        attributes = _attributes(ctx, entries)
        sessions = options.session_folders()
        for entry in entries:
            if entry.kind == "commit":
                plans[entry.path] = _Plan(entry, None, "submodule")
                continue
            language = language_of(entry.path, extensions) or language_of(entry.path, PLAIN)
            if language is None or entry.kind != "blob":
                continue
            doc = language in DOC_LANGUAGES
            if doc and _under(entry.path, sessions):
                continue  # the sessions scraper's notes: never indexed twice
            skip = None
            if entry.mode == _SYMLINK:
                skip = "symlink"
            elif excluded(entry.path, options.code_exclude):
                skip = "vendored"
            elif attributes and (reason := attributes.reason(entry.path)) is not None:
                skip = reason  # vendored, generated or documentation in .gitattributes
            elif entry.missing:  # this clone lacks the blob (never fetched)
                skip = "missing-blob"
            elif entry.size is not None and entry.size > (
                    min(DOC_MAX_BYTES, options.code_max_bytes) if doc else options.code_max_bytes):
                skip = "size"
            elif minified_name(entry.path):
                skip = "minified"
            plans[entry.path] = _Plan(entry, language, skip)
        self._plans = plans
        return plans

    def _target_time(self, ctx: ScrapeContext) -> str:
        if self._fallback_time is None:
            self._fallback_time = utc_timestamp(ctx.repo.commit_time(ctx.target))
        return self._fallback_time

    def _parse(self, keys: list[Key], ctx: ScrapeContext, cache: ParseCache,
               out: dict[Key, tuple[bytes, bool]]) -> Generator[Key, None, None]:
        """Facts of blobs not in the cache, into `out` in `keys` order (one step per file):
        read through one git process, parsed in the pool, written to the cache as they
        come (the workers compress them), so the cache costs no time at the end."""
        by_blob: dict[str, list[str]] = {}
        for blob, language in keys:
            by_blob.setdefault(blob, []).append(language)
        rows: list[tuple[str, str, bytes, bool]] = []  # for the cache

        def jobs() -> Iterator[Job]:
            for blob, data in ctx.repo.read_blobs(by_blob):
                for language in by_blob[blob]:
                    reason = content_skip(language, data)
                    if reason is not None:
                        facts = b"skip:" + reason.encode()
                        out[(blob, language)] = (facts, False)
                        rows.append((blob, language, compress(facts), False))
                        continue
                    self.stats.parsed += 1
                    self.stats.parsed_bytes += len(data)
                    yield f"{blob}:{language}", language, data

        sizes = {plan.entry.object_id: plan.entry.size or 0 for plan in self._plan(ctx).values()}
        total = sum(sizes[blob] for blob in by_blob)
        try:
            for key, facts, partial, packed in parse_all(jobs(), ctx.options.workers, total,
                                                         cache.enabled):
                blob, _, language = key.partition(":")
                out[(blob, language)] = (facts, partial)
                if packed is not None:  # None: extraction failed, which is not cached
                    rows.append((blob, language, packed, partial))
                if len(rows) >= 64:
                    cache.put_many(rows)
                    rows.clear()
                yield blob, language
        finally:
            cache.put_many(rows)


def _under(path: str, folders: tuple[str, ...]) -> bool:
    return any(path == f or path.startswith(f + "/") for f in folders)


def _attributes(ctx: ScrapeContext, entries: list[TreeEntry]) -> Attributes:
    """The linguist attributes of the tree's .gitattributes files (one this clone
    lacks reads as empty, with a warning: it is never fetched)."""
    files = [e for e in entries if e.kind == "blob" and e.mode != _SYMLINK
             and attribute_files([e.path])]
    blobs = dict(ctx.repo.read_blobs(sorted({e.object_id for e in files if not e.missing})))
    for e in files:
        if e.object_id not in blobs:
            ctx.warn("this clone lacks the blob of this .gitattributes; its attributes are "
                     "not applied", kind="code", where=e.path)
    return Attributes({e.path: blobs.get(e.object_id, b"") for e in files})


def file_events(path: str, when: str, facts: bytes) -> list[Event]:
    """Events of one file's facts (extract's encoding: keys are source ids less "path::")."""
    if len(when) != 20 or not when.endswith("Z"):
        raise ValueError(f"timestamp must be YYYY-MM-DDTHH:MM:SSZ, got {when!r}")
    prefix = path + "::"
    return [Event(event_type, when, prefix + key, path, data)
            for event_type, key, data in decode_facts(facts)]
