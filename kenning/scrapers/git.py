"""git.commit and git.tag events from one streaming `git log` (kenning.scrapers.git_log).

Units: one per commit reachable from the target, one per tag that points into
that history. A commit's fingerprint is everything its events depend on:
whether it is on the target's first-parent chain, the `.mailmap` blob, and its
parents as git sees them (none at a shallow clone's boundary; whatever replace
refs and grafts say; replace refs and grafts may change the commit itself too,
so they are in every fingerprint when there are any). Merges carry no line
counts; merges on the first-parent chain carry the files they change against
their first parent, from a second cheap tree-diff pass over just those merges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


class GitScraper:
    name = "git"

    def __init__(self) -> None:
        self._parents: dict[str, tuple[str, ...]] | None = None
        self._first_parent: set[str] | None = None

    def _history(self, ctx: ScrapeContext) -> tuple[dict[str, tuple[str, ...]], set[str]]:
        """Every commit reachable from the target with its parents as git sees them, and
        the target's first-parent chain (read once)."""
        if self._parents is None or self._first_parent is None:
            self._parents = ctx.repo.parents(ctx.target)
            self._first_parent = set(ctx.repo.rev_list(ctx.target, first_parent=True))
        return self._parents, self._first_parent

    def units(self, ctx: ScrapeContext) -> dict[str, str]:
        repo, target = ctx.repo, ctx.target
        parents, first_parent = self._history(ctx)
        mailmap = _mailmap_blob(repo, target)
        replaced = repo.replacements_fingerprint()
        common = f"{mailmap}:{replaced}" if replaced else mailmap
        units = {
            sha: f"{'fp' if sha in first_parent else 'side'}:{common}:"
                 + ",".join(p[:12] for p in commit_parents)
            for sha, commit_parents in parents.items()
        }
        for tag in _tags(repo, reachable=units):
            units[_TAG_PREFIX + tag["name"]] = f"{tag['object']}:{mailmap}:{replaced}"
        return units

    def scrape(self, ctx: ScrapeContext, units: Sequence[str]) -> Iterator[UnitResult]:
        repo, target = ctx.repo, ctx.target
        mailmap = Mailmap(_read_mailmap(repo, target))
        commits, first_parent = self._history(ctx)
        wanted = {u for u in units if not u.startswith(_TAG_PREFIX)}
        everything = len(wanted) == len(commits)
        merge_files = git_log.first_parent_merge_files(
            repo, target if everything else sorted(wanted & first_parent)
        )
        revisions = list(commits) if everything else sorted(wanted)
        for record in git_log.log(repo, revisions, ctx.options.workers):
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


def _read_mailmap(repo: GitRepo, target: str) -> str:
    blob = _mailmap_blob(repo, target)
    return decode_text(repo.read_blob(blob)) if blob else ""
