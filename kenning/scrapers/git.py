"""git.commit and git.tag events from one streaming `git log`.

Units: one per commit reachable from the target (fingerprint: whether it is
on the target's first-parent chain, and the `.mailmap` blob), one per tag that
points into that history. Merges carry no line counts; merges on the
first-parent chain carry the files they change against their first parent,
from a second cheap tree-diff pass (`--name-status`) over just those merges.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kenning.eventlog.events import Event, make_event, utc_timestamp
from kenning.repository.gitrepo import GitRepo, decode_path, decode_text
from kenning.scrapers.base import ScrapeContext, UnitResult
from kenning.scrapers.commit_message import (
    find_refs,
    find_trailers,
    parse_conventional,
    split_message,
)
from kenning.scrapers.mailmap import Mailmap

_RS = b"\x1e\x1eK"  # starts every commit record
_FS = b"\x1f"
_END = b"\x1f\x1fE"  # ends the formatted header; the diff follows
_HEADER = ["%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%ct", "%B"]
_FORMAT = "--format=%x1e%x1eK" + "%x1f".join(_HEADER) + "%x1f%x1fE"
_DIFF_FLAGS = ("-z", "--no-abbrev", "-M", "-l2000", "--no-color", "--no-ext-diff",
               "--no-textconv", "--no-relative")
_TAG_PREFIX = "tag/"


class GitScraper:
    name = "git"

    def __init__(self) -> None:
        self._commits: list[str] | None = None
        self._first_parent: set[str] | None = None

    def _history(self, ctx: ScrapeContext) -> tuple[list[str], set[str]]:
        """Every commit reachable from the target, and its first-parent chain (read once)."""
        if self._commits is None or self._first_parent is None:
            self._commits = ctx.repo.rev_list(ctx.target)
            self._first_parent = set(ctx.repo.rev_list(ctx.target, first_parent=True))
        return self._commits, self._first_parent

    def units(self, ctx: ScrapeContext) -> dict[str, str]:
        repo, target = ctx.repo, ctx.target
        commits, first_parent = self._history(ctx)
        mailmap = _mailmap_blob(repo, target)
        units = {
            sha: f"{'fp' if sha in first_parent else 'side'}:{mailmap}" for sha in commits
        }
        for tag in _tags(repo, reachable=units):
            units[_TAG_PREFIX + tag["name"]] = f"{tag['object']}:{mailmap}"
        return units

    def scrape(self, ctx: ScrapeContext, units: Sequence[str]) -> Iterator[UnitResult]:
        repo, target = ctx.repo, ctx.target
        mailmap = Mailmap(_read_mailmap(repo, target))
        commits, first_parent = self._history(ctx)
        wanted = {u for u in units if not u.startswith(_TAG_PREFIX)}
        everything = len(wanted) == len(commits)
        merge_files = _first_parent_merge_files(
            repo, target if everything else sorted(wanted & first_parent)
        )
        revisions = commits if everything else sorted(wanted)
        for record in _log(repo, revisions, ctx.options.workers):
            sha = record["sha"]
            if sha not in wanted:
                continue
            on_chain = sha in first_parent
            files = merge_files.get(sha, []) if record["is_merge"] else record["files"]
            yield UnitResult(sha, [_commit_event(record, files, on_chain, mailmap)])
        tag_units = {u[len(_TAG_PREFIX):] for u in units if u.startswith(_TAG_PREFIX)}
        if tag_units:
            for tag in _tags(repo, reachable=None):
                if tag["name"] in tag_units:
                    yield UnitResult(_TAG_PREFIX + tag["name"], [_tag_event(tag, mailmap)])


# -- git log -------------------------------------------------------------------


# A first scrape of a long history is mostly git computing diffs. With at least
# _COMMITS_PER_PROCESS commits per process, the commits are shared among `workers`
# git processes (every n-th commit each) that run at once: sqlalchemy's 18,235
# commits take 14.5 s in one process and 7.7 s in two. They go in blocks of at most
# _BLOCK_PER_PROCESS commits per process, which bounds the temporary files. Only the
# order of the records changes, and the eventlog has its own.
_COMMITS_PER_PROCESS = 1000
_BLOCK_PER_PROCESS = 5000


def _log(repo: GitRepo, revisions: list[str], processes: int) -> Iterator[dict[str, Any]]:
    """Parsed commits of the listed revisions, from up to `processes` `git log`s."""
    processes = max(1, min(processes, len(revisions) // _COMMITS_PER_PROCESS))
    block = processes * _BLOCK_PER_PROCESS
    for start in range(0, len(revisions), block):
        yield from _log_block(repo, revisions[start:start + block], processes)


def _log_block(repo: GitRepo, revisions: list[str],
               processes: int) -> Iterator[dict[str, Any]]:
    args = ["log", _FORMAT, "--raw", "--numstat", *_DIFF_FLAGS]
    shares = [revisions[i::processes] for i in range(processes)]
    # the others start now and write into temporary files while the first one streams
    others = [repo.spool(*args, "--no-walk=unsorted", "--stdin", stdin=_lines(share))
              for share in shares[1:] if share]
    try:
        for record in _records(repo, args, shares[0]):
            yield _parse_record(record)
        for other in others:
            for record in _split_records(other.chunks()):
                yield _parse_record(record)
    finally:
        for other in others:
            other.close()


def _lines(revisions: list[str]) -> bytes:
    return b"".join(r.encode() + b"\n" for r in revisions)


def _records(
    repo: GitRepo, args: list[str], revisions: str | list[str], walk_flags: Sequence[str] = ()
) -> Iterator[bytes]:
    """Raw commit records of one git process, split on the record marker as they stream."""
    if isinstance(revisions, str):
        chunks = repo.stream(*args, *walk_flags, revisions, "--")
        yield from _split_records(chunks)
        return
    with tempfile.NamedTemporaryFile("wb", suffix=".revs") as revs:
        revs.write(_lines(revisions))
        revs.flush()
        chunks = repo.stream(*args, "--no-walk=unsorted", "--stdin", stdin_path=Path(revs.name))
        yield from _split_records(chunks)


def _split_records(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        records = pending.split(_RS)
        pending = records.pop()
        yield from (r for r in records if r)
    if pending:
        yield pending


def _parse_record(record: bytes) -> dict[str, Any]:
    header, _, diff = record.partition(_END)
    fields = header.split(_FS, len(_HEADER) - 1)
    sha, parents, an, ae, ad, cn, ce, cd, ct, message = fields
    parent_list = parents.decode().split()
    return {
        "sha": sha.decode(),
        "parents": parent_list,
        "author": (decode_text(an), decode_text(ae), ad.decode()),
        "committer": (decode_text(cn), decode_text(ce), cd.decode()),
        "commit_time": int(ct),
        "message": decode_text(message),
        "is_merge": len(parent_list) > 1,
        "files": _parse_diff(diff),
    }


def _parse_diff(diff: bytes) -> list[dict[str, Any]]:
    """`--raw` entries give change types, `--numstat` entries give line counts."""
    tokens = iter(diff.split(b"\0"))
    by_path: dict[str, dict[str, Any]] = {}
    for token in tokens:
        token = token.lstrip(b"\n")
        if not token:
            continue
        if token.startswith(b":"):
            status = token.split(b" ")[-1].decode()
            kind = status[0]
            if kind in "RC":
                old, new = decode_path(next(tokens)), decode_path(next(tokens))
                by_path[new] = {"path": new, "old_path": old, "change_type": kind}
            else:
                path = decode_path(next(tokens))
                by_path[path] = {"path": path, "change_type": kind}
        else:
            added, removed, path_raw = token.split(b"\t", 2)
            if not path_raw:
                next(tokens)  # the old path of a rename
                path_raw = next(tokens)
            entry = by_path.setdefault(decode_path(path_raw), {"path": decode_path(path_raw)})
            binary = added == b"-"
            entry["binary"] = binary
            entry["lines_added"] = 0 if binary else int(added)
            entry["lines_removed"] = 0 if binary else int(removed)
    return [by_path[p] for p in sorted(by_path)]


def _first_parent_merge_files(
    repo: GitRepo, revisions: str | list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Files each first-parent merge changes against its first parent (a tree diff only).

    `revisions` is the target (walk its first-parent merges) or a list of commits."""
    if not revisions:
        return {}
    args = ["log", "--format=%x1e%x1eK%H%x1f%x1fE", "--diff-merges=first-parent", "--raw",
            *_DIFF_FLAGS]
    result: dict[str, list[dict[str, Any]]] = {}
    for record in _records(repo, args, revisions, walk_flags=("--first-parent", "--merges")):
        sha, _, diff = record.partition(_END)
        files = _parse_diff(diff)
        for entry in files:  # paths and change types; line counts would need blob diffs
            entry.update(binary=None, lines_added=None, lines_removed=None)
        result[sha.decode()] = files
    return result


def _commit_event(
    record: dict[str, Any], files: list[dict[str, Any]], on_chain: bool, mailmap: Mailmap
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
    return make_event("git.commit", utc_timestamp(record["commit_time"]), record["sha"], None,
                      payload)


# -- tags and .mailmap -----------------------------------------------------------

_TAG_FIELDS = ["refname:strip=2", "objecttype", "objectname", "*objectname",
               "taggername", "taggeremail:trim", "taggerdate:unix", "committerdate:unix",
               "*committerdate:unix", "contents"]
_TAG_FORMAT = "%(" + ")%1f%(".join(_TAG_FIELDS) + ")%1e"  # noqa: ISC003


def _tags(repo: GitRepo, reachable: dict[str, str] | None) -> list[dict[str, Any]]:
    out = repo.run("for-each-ref", "--sort=refname", f"--format={_TAG_FORMAT}", "refs/tags")
    tags = []
    for record in out.split(b"\x1e"):
        record = record.lstrip(b"\n")
        if not record:
            continue
        name, kind, obj, peeled, tagger, email, tag_date, c_date, peeled_date, contents = (
            record.split(b"\x1f")
        )
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


def _read_mailmap(repo: GitRepo, target: str) -> str:
    blob = _mailmap_blob(repo, target)
    return decode_text(repo.read_blob(blob)) if blob else ""
