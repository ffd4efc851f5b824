"""Reading `git log`: commit records with their diffs, in a format no byte can confuse.

Every field is printed after a NUL and a "+", so no field is ever empty; git
never prints a NUL inside a name, an email or a message (it cuts a message at
one), nor inside a `-z` diff, whose tokens are never empty either. So two
NULs in a row can only start a record, and the ten header fields are the first
ten NUL-separated pieces of it, whatever other bytes they hold.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kenning.errors import KenningError
from kenning.repository.gitrepo import GitRepo, decode_path, decode_text

_FIELDS = ["%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%ct", "%B"]
_FORMAT = "--format=" + "".join(f"%x00+{field}" for field in _FIELDS)
_RECORD = b"\0\0"  # starts every record (the first one's leading NUL is supplied)
_FIELD = b"\0+"  # starts every field but the first
_OUTPUT = ("-z", "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative")
_RENAMES = ("-M", "-l2000")
_NULL_ID = "0" * 40
_GITLINK = "160000"  # a submodule entry: its id names a commit of another repository

# A first scrape of a long history is mostly git computing diffs. With at least
# _COMMITS_PER_PROCESS commits per process, the commits are shared among `workers`
# git processes (every n-th commit each) that run at once: sqlalchemy's 18,235
# commits take 14.5 s in one process and 7.7 s in two. They go in blocks of at most
# _BLOCK_PER_PROCESS commits per process, which bounds the temporary files. Only the
# order of the records changes, and the eventlog has its own.
_COMMITS_PER_PROCESS = 1000
_BLOCK_PER_PROCESS = 5000


def log(repo: GitRepo, revisions: list[str], processes: int) -> Iterator[dict[str, Any]]:
    """Commits of the listed revisions with line counts (`files`), from up to
    `processes` `git log`s. Reads every blob their diffs need."""
    processes = max(1, min(processes, len(revisions) // _COMMITS_PER_PROCESS))
    block = processes * _BLOCK_PER_PROCESS
    for start in range(0, len(revisions), block):
        yield from _log_block(repo, revisions[start:start + block], processes)


def _log_block(repo: GitRepo, revisions: list[str],
               processes: int) -> Iterator[dict[str, Any]]:
    args = ["log", _FORMAT, "--raw", "--numstat", *_OUTPUT, *_RENAMES]
    shares = [revisions[i::processes] for i in range(processes)]
    # the others start now and write into temporary files while the first one streams
    others = [repo.spool(*args, "--no-walk=unsorted", "--stdin", stdin=_lines(share))
              for share in shares[1:] if share]
    try:
        for record in _records(repo, args, shares[0]):
            yield _with_files(parse_record(record))
        for other in others:
            for record in split_records(other.chunks()):
                yield _with_files(parse_record(record))
    finally:
        for other in others:
            other.close()


def _with_files(record: dict[str, Any]) -> dict[str, Any]:
    record["files"] = parse_diff(record.pop("diff"))
    return record


def tree_diffs(repo: GitRepo, revisions: str | list[str]) -> Iterator[dict[str, Any]]:
    """Commits with their tree diff against the first parent (`raw`: entries with
    their blob ids), without rename detection: git reads no blob for it."""
    args = ["log", _FORMAT, "--raw", "--no-renames", "--diff-merges=first-parent", *_OUTPUT]
    for record in _records(repo, args, revisions):
        parsed = parse_record(record)
        parsed["raw"] = parse_raw(parsed.pop("diff"))
        yield parsed


def first_parent_merge_files(
    repo: GitRepo, revisions: str | list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Files each first-parent merge changes against its first parent (a tree diff, and
    rename detection). `revisions` is the target (walk its first-parent merges) or a list."""
    if not revisions:
        return {}
    args = ["log", "--format=%x00+%H", "--diff-merges=first-parent", "--raw", *_OUTPUT,
            *_RENAMES]
    result: dict[str, list[dict[str, Any]]] = {}
    for record in _records(repo, args, revisions, walk_flags=("--first-parent", "--merges")):
        sha, _, diff = record.partition(b"\0")
        files = parse_diff(diff)
        for entry in files:  # paths and change types; line counts would need blob diffs
            entry.update(binary=None, lines_added=None, lines_removed=None)
        result[sha[1:].decode()] = files
    return result


def _lines(revisions: list[str]) -> bytes:
    return b"".join(r.encode() + b"\n" for r in revisions)


def _records(
    repo: GitRepo, args: Sequence[str], revisions: str | list[str],
    walk_flags: Sequence[str] = (),
) -> Iterator[bytes]:
    """Raw commit records of one git process, split as they stream."""
    if isinstance(revisions, str):
        yield from split_records(repo.stream(*args, *walk_flags, revisions, "--"))
        return
    with tempfile.NamedTemporaryFile("wb", suffix=".revs") as revs:
        revs.write(_lines(revisions))
        revs.flush()
        chunks = repo.stream(*args, "--no-walk=unsorted", "--stdin", stdin_path=Path(revs.name))
        yield from split_records(chunks)


def split_records(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Records without their leading NULs and without the NUL that ends each."""
    pending = b"\0"  # as if the output began after a record, so every record starts alike
    for chunk in chunks:
        pending += chunk
        records = pending.split(_RECORD)
        pending = records.pop()
        yield from (r for r in records if r)
    if last := pending.removesuffix(b"\0"):
        yield last


def parse_record(record: bytes) -> dict[str, Any]:
    """The header fields of one record, and its diff still raw (`diff`)."""
    # the first nine separators are NUL + "+" and all in the header (no field holds a NUL);
    # the message ends at the next NUL, where the diff begins
    fields = record.split(_FIELD, len(_FIELDS) - 1)
    if len(fields) != len(_FIELDS) or record[:1] != b"+":
        raise KenningError(f"git log printed a record kenning cannot read: {record[:80]!r}")
    sha, parents, an, ae, ad, cn, ce, cd, ct, rest = fields
    message, _, diff = rest.partition(b"\0")
    parent_list = parents.decode().split()
    return {
        "sha": sha[1:].decode(),
        "parents": parent_list,
        "author": (decode_text(an), decode_text(ae), ad.decode()),
        "committer": (decode_text(cn), decode_text(ce), cd.decode()),
        "commit_time": int(ct),
        "message": decode_text(message),
        "is_merge": len(parent_list) > 1,
        "diff": diff,
    }


def parse_diff(diff: bytes) -> list[dict[str, Any]]:
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


RawEntry = tuple[str, str, str | None, str | None]  # path, change type, old blob, new blob


def parse_raw(diff: bytes) -> list[RawEntry]:
    """`--raw --no-renames` entries, with the blob ids on either side (None: no blob)."""
    tokens = iter(diff.split(b"\0"))
    entries = []
    for token in tokens:
        token = token.lstrip(b"\n")
        if not token:
            continue
        old_mode, new_mode, old_id, new_id, status = token[1:].decode().split(" ")
        old = None if old_id == _NULL_ID or old_mode == _GITLINK else old_id
        new = None if new_id == _NULL_ID or new_mode == _GITLINK else new_id
        entries.append((decode_path(next(tokens)), status[0], old, new))
    return entries
