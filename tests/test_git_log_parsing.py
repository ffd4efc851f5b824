"""The git log is read exactly, whatever bytes names, emails and messages hold.

git itself decides what a commit may hold: names and emails come through the
GIT_AUTHOR_*/GIT_COMMITTER_* variables (no NUL; git drops `<`, `>`, newlines and
leading/trailing "crud"), messages through `git commit-tree` (no NUL). Whatever it
stored, `git cat-file` shows; kenning must read back exactly that, decoded by its
rules (invalid UTF-8 becomes U+FFFD).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fixtures.builder import BASE_ENV, RepoBuilder
from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo, decode_text
from kenning.scrapers.commit_message import split_message
from kenning.scrapers.engine import scrape

# bytes that once separated or ended kenning's log records, every control character,
# bytes that are not UTF-8, and the characters git treats specially in identities
_NASTY = [bytes([c]) for c in range(1, 32)] + [
    b"\x7f", b"\x1e\x1eK", b"\x1f\x1fE", b"\x1f", b"\x1e", b"E", b"K", b"\xff", b"\xc3\xa9",
    b"\xe2\x80", b" ", b"<", b">", b"\n\n", b"%x00", b"#1", b"Signed-off-by: x",
]
_text = st.lists(st.one_of(st.sampled_from(_NASTY), st.binary(min_size=1, max_size=4)),
                 max_size=8).map(lambda parts: b"".join(parts).replace(b"\0", b""))


def _git(repo: Path, *args: str, env: dict | None = None, stdin: bytes = b"") -> bytes:
    proc = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                          env={**os.environ, **BASE_ENV, **(env or {})}, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace"))
    return proc.stdout


def _commit(repo: Path, tree: str, parent: str | None, author: tuple[bytes, bytes],
            committer: tuple[bytes, bytes], message: bytes) -> str:
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1],
           "GIT_AUTHOR_DATE": "1700000000 +0130", "GIT_COMMITTER_DATE": "1700000100 -0200"}
    args = ["commit-tree", tree, *(["-p", parent] if parent else [])]
    return _git(repo, *args, env=env, stdin=message).decode().strip()


def _identity(raw: bytes) -> tuple[bytes, bytes]:
    """(name, email) as a commit object stores them: `NAME <EMAIL> TIME ZONE`."""
    name, _, rest = raw.partition(b"<")
    return name.removesuffix(b" "), rest[:rest.rindex(b">")]


def _stored(repo: Path, sha: str) -> dict[str, object]:
    """What git stored for a commit, decoded as kenning decodes it."""
    raw = _git(repo, "cat-file", "commit", sha)
    headers, _, message = raw.partition(b"\n\n")
    fields = dict(line.split(b" ", 1) for line in headers.split(b"\n"))
    (an, ae), (cn, ce) = _identity(fields[b"author"]), _identity(fields[b"committer"])
    subject, body = split_message(decode_text(message))
    return {"author": (decode_text(an), decode_text(ae)),
            "committer": (decode_text(cn), decode_text(ce)),
            "subject": subject, "body": body,
            "parents": [v.decode() for k, v in (line.split(b" ", 1) for line in
                                                headers.split(b"\n")) if k == b"parent"]}


def _read(db: Path) -> dict[str, dict[str, object]]:
    conn = database.connect(db, write=False)
    found = {}
    for (data,) in conn.execute("SELECT data FROM eventlog WHERE event_type = 'git.commit'"):
        d = json.loads(data)
        found[d["sha"]] = {"author": (d["author"]["name"], d["author"]["email"]),
                           "committer": (d["committer"]["name"], d["committer"]["email"]),
                           "subject": d["subject"], "body": d["body"], "parents": d["parents"]}
    return found


_commits = st.lists(st.tuples(_text, _text, _text, _text, _text), min_size=1, max_size=4)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(commits=_commits, tag=st.tuples(_text, _text, _text))
@example(commits=[(b"Edward Rudd", b"ed@example.com", b"E", b"", b"root\n")],
         tag=(b"E", b"", b"\x1e\x1eKnot a record\x1f"))
def test_names_emails_and_messages_read_back_exactly(
        tmp_path_factory, commits: list[tuple[bytes, ...]], tag: tuple[bytes, ...]) -> None:
    path = tmp_path_factory.mktemp("bytes")
    RepoBuilder(path)
    tree = _git(path, "mktree").decode().strip()
    parent = None
    for an, ae, cn, ce, message in commits:
        # an identity of nothing but "crud" is refused by git; "E" keeps what git strips
        parent = _commit(path, tree, parent, (b"E" + an, ae), (b"E" + cn, ce), message)
    assert parent is not None
    _git(path, "update-ref", "refs/heads/main", parent)
    tagger, email, message = tag
    _git(path, "tag", "-a", "--cleanup=verbatim", "-F", "-", "t", parent, stdin=message,
         env={"GIT_COMMITTER_NAME": b"E" + tagger, "GIT_COMMITTER_EMAIL": email,
              "GIT_COMMITTER_DATE": "1700000200 +0000"})

    db = path / "k.db"
    scrape(GitRepo.discover(path), db, scrapers=["git"])
    shas = _git(path, "rev-list", "main").decode().split()
    assert _read(db) == {sha: _stored(path, sha) for sha in shas}

    raw_tag = _git(path, "cat-file", "tag", "t")
    headers, _, tag_message = raw_tag.partition(b"\n\n")
    tagger_line = next(v for k, _, v in (h.partition(b" ") for h in headers.split(b"\n"))
                       if k == b"tagger")
    name, mail = _identity(tagger_line)
    (data,) = database.connect(db, write=False).execute(
        "SELECT data FROM eventlog WHERE event_type = 'git.tag'").fetchone()
    event = json.loads(data)
    assert event["tagger"] == {"name": decode_text(name), "email": decode_text(mail)}
    assert event["message"] == decode_text(tag_message).strip()
    assert event["commit"] == parent


def test_a_root_commit_by_edward(tmp_path: Path) -> None:
    """libsdl-org/SDL's root commit: no parents, and an author whose name starts with "E"."""
    r = RepoBuilder(tmp_path / "repo")
    edward = ("Edward Rudd", "urkle@example.com")
    r.commit("Initial revision", "2001-04-26T16:45:43+00:00", {"README": "SDL\n"}, author=edward)
    r.commit("Second", "2001-04-27T16:45:43+00:00", {"README": "SDL 2\n"})
    db = tmp_path / "k.db"
    scrape(GitRepo.discover(r.path), db, scrapers=["git"])
    found = {d["subject"]: d for d in (json.loads(row) for (row,) in database.connect(
        db, write=False).execute("SELECT data FROM eventlog WHERE event_type='git.commit'"))}
    root = found["Initial revision"]
    assert root["author"]["name"] == "Edward Rudd" and root["parents"] == []
    assert root["files"] == [{"path": "README", "change_type": "A", "lines_added": 1,
                              "lines_removed": 0, "binary": False}]
    assert found["Second"]["parents"] == [root["sha"]]
