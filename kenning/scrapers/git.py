"""git.commit and git.tag events from one streaming `git log` (kenning.scrapers.git_log).

Units: one per commit reachable from the target, one per tag that points into
that history. A commit's fingerprint is everything its events depend on:
whether it is on the target's first-parent chain, the `.mailmap` blob, its
parents as git sees them (none at a shallow clone's boundary; whatever replace
refs and grafts say), and the blobs its diff needs that this clone lacks.
Merges carry no line counts; merges on the first-parent chain carry the files
they change against their first parent, from a second cheap tree-diff pass
over just those merges.

Blobs this clone lacks (a partial clone, an incomplete mirror) never stop the
scrape and are never fetched. A commit whose diff needs one keeps its files
from a tree diff (paths and change types; a rename only where the blob ids
match), its line counts are null (unknown), and `missing_blobs` names the
paths; its unit's status is `partial:missing-blob`. Where the engine says a
clone may lack objects, those commits are found before the scrape; elsewhere
only when git fails on one, so a complete clone pays nothing for this.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kenning.errors import KenningError
from kenning.eventlog.events import Event, make_event, utc_timestamp
from kenning.repository.gitrepo import GitRepo, decode_path, decode_text
from kenning.scrapers import git_log
from kenning.scrapers.base import ScrapeContext, UnitResult
from kenning.scrapers.commit_message import (
    find_refs,
    find_trailers,
    parse_conventional,
    split_message,
)
from kenning.scrapers.mailmap import Mailmap

_TAG_PREFIX = "tag/"
_MAILMAP_UNIT = ".mailmap"  # a unit only when its blob is missing (counted, no events)
MISSING_BLOB = "missing-blob"


@dataclass
class _History:
    parents: dict[str, tuple[str, ...]]  # every commit reachable from the target, in order
    first_parent: set[str]  # the target's first-parent chain
    replaced: str  # replace refs and grafts ("" when there are none)
    mailmap: str  # the .mailmap blob at the target, or ""
    mailmap_missing: bool


class GitScraper:
    name = "git"

    def __init__(self) -> None:
        self._history: _History | None = None
        # commit -> the missing blobs its diff needs; None until looked for
        self._missing: dict[str, tuple[str, ...]] | None = None

    def units(self, ctx: ScrapeContext) -> dict[str, str]:
        history = self._read_history(ctx)
        if ctx.objects_may_be_missing:
            self._missing = _needing_missing_blobs(ctx.repo, ctx.target, history)
        units = {sha: self._fingerprint(history, sha) for sha in history.parents}
        if history.mailmap_missing:
            units[_MAILMAP_UNIT] = f"{MISSING_BLOB}:{history.mailmap}"
        mailmap = history.mailmap + ("?" if history.mailmap_missing else "")
        for tag in _tags(ctx.repo, reachable=units):
            units[_TAG_PREFIX + tag["name"]] = f"{tag['object']}:{mailmap}:{history.replaced}"
        return units

    def scrape(self, ctx: ScrapeContext, units: Sequence[str]) -> Iterator[UnitResult]:
        history = self._read_history(ctx)
        mailmap = Mailmap("" if history.mailmap_missing else _read_mailmap(ctx.repo, history))
        wanted = {u for u in units if u in history.parents}
        known = self._missing or {}
        incomplete = {sha: known[sha] for sha in wanted if known.get(sha)}
        complete = wanted - incomplete.keys()
        learned: dict[str, tuple[str, ...]] = {}
        done: set[str] = set()
        try:
            yield from self._complete(ctx, history, complete, mailmap, done)
        except KenningError:
            if self._missing is not None:  # what is missing was known: this is damage
                raise
            rest = sorted(complete - done)
            learned = _needing_missing_blobs(ctx.repo, rest, history)
            if not learned:
                raise
            yield from self._complete(ctx, history, set(rest) - learned.keys(), mailmap, done)
            incomplete.update(learned)
        yield from self._incomplete(ctx, history, incomplete, learned, mailmap)
        if _MAILMAP_UNIT in units:
            yield UnitResult(_MAILMAP_UNIT, [], f"skipped:{MISSING_BLOB}")
        tag_units = {u[len(_TAG_PREFIX):] for u in units if u.startswith(_TAG_PREFIX)}
        if tag_units:
            for tag in _tags(ctx.repo, reachable=None):
                if tag["name"] in tag_units:
                    yield UnitResult(_TAG_PREFIX + tag["name"], [_tag_event(tag, mailmap)])

    # -- helpers -------------------------------------------------------------

    def _read_history(self, ctx: ScrapeContext) -> _History:
        if self._history is None:
            repo = ctx.repo
            mailmap = _mailmap_blob(repo, ctx.target)
            self._history = _History(
                parents=repo.parents(ctx.target),
                first_parent=set(repo.rev_list(ctx.target, first_parent=True)),
                replaced=repo.replacements_fingerprint(),
                mailmap=mailmap,
                mailmap_missing=bool(mailmap and repo.missing_objects([mailmap])),
            )
        return self._history

    def _fingerprint(self, history: _History, sha: str, missing: tuple[str, ...] = ()) -> str:
        chain = "fp" if sha in history.first_parent else "side"
        mailmap = history.mailmap + ("?" if history.mailmap_missing else "")
        parts = [chain, mailmap, ",".join(p[:12] for p in history.parents[sha])]
        if history.replaced:
            parts.append(history.replaced)
        missing = missing or (self._missing or {}).get(sha, ())
        if missing:
            parts.append(f"{MISSING_BLOB} {_short(missing)}")
        return ":".join(parts)

    def _complete(self, ctx: ScrapeContext, history: _History, commits: set[str],
                  mailmap: Mailmap, done: set[str]) -> Iterator[UnitResult]:
        """Commits whose diffs need no missing blob (as far as is known): one log with
        line counts, and the first-parent merges' files."""
        if not commits:
            return
        everything = len(commits) == len(history.parents)
        merge_files = git_log.first_parent_merge_files(
            ctx.repo, ctx.target if everything else sorted(commits & history.first_parent))
        revisions = list(history.parents) if everything else sorted(commits)
        for record in git_log.log(ctx.repo, revisions, ctx.options.workers):
            sha = record["sha"]
            if sha not in commits:
                continue
            on_chain = sha in history.first_parent
            files = merge_files.get(sha, []) if record["is_merge"] else record["files"]
            done.add(sha)
            yield UnitResult(sha, [_commit_event(record, files, on_chain, mailmap)])

    def _incomplete(self, ctx: ScrapeContext, history: _History,
                    commits: dict[str, tuple[str, ...]], learned: dict[str, tuple[str, ...]],
                    mailmap: Mailmap) -> Iterator[UnitResult]:
        """Commits whose diffs need missing blobs: files from a tree diff, no line counts."""
        if not commits:
            return
        for record in git_log.tree_diffs(ctx.repo, sorted(commits)):
            sha = record["sha"]
            missing = set(commits[sha])
            paths = sorted({path for path, _, old, new in record["raw"]
                            if old in missing or new in missing})
            event = _commit_event(record, _files_without_counts(record["raw"]),
                                  sha in history.first_parent, mailmap, missing_blobs=paths)
            # found only now (git failed on it): the stored fingerprint must say so
            fingerprint = self._fingerprint(history, sha, learned[sha]) if sha in learned else None
            yield UnitResult(sha, [event], f"partial:{MISSING_BLOB}", fingerprint)


def _short(items: Iterable[str]) -> str:
    return hashlib.blake2b(" ".join(items).encode(), digest_size=6).hexdigest()


def _needing_missing_blobs(repo: GitRepo, revisions: str | list[str],
                           history: _History) -> dict[str, tuple[str, ...]]:
    """Commits whose diffs (against the first parent) need blobs this clone lacks, with
    those blobs. A tree diff reads no blob; side-branch merges carry no files."""
    needs: dict[str, set[str]] = {}
    for record in git_log.tree_diffs(repo, revisions):
        if record["is_merge"] and record["sha"] not in history.first_parent:
            continue
        needs[record["sha"]] = {oid for _, _, old, new in record["raw"] for oid in (old, new)
                                if oid is not None}
    missing = repo.missing_objects(set().union(*needs.values()))
    return {sha: tuple(sorted(oids & missing)) for sha, oids in needs.items() if oids & missing}


def _files_without_counts(raw: list[git_log.RawEntry]) -> list[dict[str, Any]]:
    """Files of a tree diff with unknown line counts. A deleted and an added file with
    the same blob are a rename, as git's own rename detection finds it first."""
    files: dict[str, dict[str, Any]] = {}
    deleted: dict[str, list[str]] = {}  # blob -> deleted paths
    for path, kind, old, _new in raw:
        if kind == "D" and old is not None:
            deleted.setdefault(old, []).append(path)
    gone: set[str] = set()
    for path, kind, _old, new in sorted(raw, key=lambda entry: entry[0]):
        if kind == "D":
            continue
        entry: dict[str, Any] = {"path": path, "change_type": kind}
        candidates = [p for p in deleted.get(new or "", []) if p not in gone] if kind == "A" else []
        if candidates:
            same_name = [p for p in candidates if posixpath.basename(p) == posixpath.basename(path)]
            source = (same_name or candidates)[0]
            gone.add(source)
            entry.update(old_path=source, change_type="R")
        files[path] = entry
    for path, kind, _old, _new in raw:
        if kind == "D" and path not in gone:
            files[path] = {"path": path, "change_type": "D"}
    for entry in files.values():
        entry.update(binary=None, lines_added=None, lines_removed=None)
    return [files[p] for p in sorted(files)]


def _commit_event(
    record: dict[str, Any], files: list[dict[str, Any]], on_chain: bool, mailmap: Mailmap,
    missing_blobs: list[str] | None = None,
) -> Event:
    an, ae, ad = record["author"]
    cn, ce, cd = record["committer"]
    an, ae = mailmap.apply(an, ae)
    cn, ce = mailmap.apply(cn, ce)
    subject, body = split_message(record["message"])
    message = record["message"]
    payload = {
        "sha": record["sha"],
        "parents": record["parents"],
        "author": {"name": an, "email": ae, "date": ad},
        "committer": {"name": cn, "email": ce, "date": cd},
        "subject": subject,
        "body": body,
        "files": files,
        "is_merge": record["is_merge"],
        "first_parent": on_chain,
        "conventional": parse_conventional(subject, body),
        "refs": find_refs(message),
        "trailers": find_trailers(message),
    }
    if missing_blobs:  # this clone lacks these paths' blobs: line counts are unknown
        payload["missing_blobs"] = missing_blobs
    return make_event("git.commit", utc_timestamp(record["commit_time"]), record["sha"], None,
                      payload)


# -- tags and .mailmap -----------------------------------------------------------

_TAG_FIELDS = ["refname:strip=2", "objecttype", "objectname", "*objectname",
               "taggername", "taggeremail:trim", "taggerdate:unix", "committerdate:unix",
               "*committerdate:unix", "contents"]
# NUL after every field (git prints none inside one); for-each-ref ends each tag with "\n"
_TAG_FORMAT = "".join(f"%({field})%00" for field in _TAG_FIELDS)


def _tags(repo: GitRepo, reachable: dict[str, str] | None) -> list[dict[str, Any]]:
    out = repo.run("for-each-ref", "--sort=refname", f"--format={_TAG_FORMAT}", "refs/tags")
    fields = out.split(b"\0")
    if fields.pop() != (b"\n" if out else b"") or len(fields) % len(_TAG_FIELDS):
        raise KenningError("git for-each-ref printed tags kenning cannot read")
    tags = []
    for start in range(0, len(fields), len(_TAG_FIELDS)):
        name, kind, obj, peeled, tagger, email, tag_date, c_date, peeled_date, contents = (
            fields[start:start + len(_TAG_FIELDS)]
        )
        name = name.removeprefix(b"\n")  # the line end after the previous tag
        commit = (peeled or obj).decode()
        if reachable is not None and commit not in reachable:
            continue
        annotated = kind == b"tag"
        epoch = int(tag_date or peeled_date or c_date or 0)
        tags.append({
            "name": decode_path(name), "object": obj.decode(), "commit": commit,
            "annotated": annotated, "tagger": decode_text(tagger), "email": decode_text(email),
            "time": epoch, "message": decode_text(contents).strip() if annotated else "",
        })
    return tags


def _tag_event(tag: dict[str, Any], mailmap: Mailmap) -> Event:
    tagger = None
    if tag["annotated"] and tag["tagger"]:
        name, email = mailmap.apply(tag["tagger"], tag["email"])
        tagger = {"name": name, "email": email}
    payload = {"name": tag["name"], "commit": tag["commit"], "annotated": tag["annotated"],
               "tagger": tagger, "message": tag["message"]}
    return make_event("git.tag", utc_timestamp(tag["time"]), tag["name"], None, payload)


def _mailmap_blob(repo: GitRepo, target: str) -> str:
    out = repo.run("rev-parse", "-q", "--verify", f"{target}:.mailmap", ok_codes=(0, 1, 128))
    return out.decode().strip()


def _read_mailmap(repo: GitRepo, history: _History) -> str:
    return decode_text(repo.read_blob(history.mailmap)) if history.mailmap else ""
