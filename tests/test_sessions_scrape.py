"""The sessions scraper inside the scrape engine: the fixture repository, warnings,
edits and deletions, tag links, --worktree, the CLI, and invariant I2 (hypothesis)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fixtures import sessions as session_fixture
from fixtures.builder import RepoBuilder
from kenning.eventlog import database
from kenning.eventlog.digest import digest
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.base import ScrapeOptions
from kenning.scrapers.engine import ScrapeResult, scrape
from kenning.scrapers.versions import VERSIONS
from tests.conftest import Runner

S = "layer/sessions"


def run(path: Path, db: Path, **kwargs: Any) -> ScrapeResult:
    """git and sessions only: the code scraper is not what these tests are about."""
    kwargs.setdefault("scrapers", ("sessions",))
    return scrape(GitRepo.discover(path), db, **kwargs)


def session_events(db: Path) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    conn = database.connect(db, write=False)
    rows = conn.execute(
        "SELECT event_type, timestamp, source_id, source_file, data FROM eventlog "
        "WHERE event_type LIKE 'session.%' ORDER BY seq").fetchall()
    return [(t, ts, sid, sf, json.loads(d)) for t, ts, sid, sf, d in rows]


def digest_of(db: Path) -> str:
    return digest(database.connect(db, write=False)).sha256


def full_digest(path: Path, tmp: Path, **kwargs: Any) -> str:
    fresh = tmp / f"full-{len(list(tmp.iterdir()))}.db"
    run(path, fresh, full=True, **kwargs)
    return digest_of(fresh)


@pytest.fixture
def session_repo(tmp_path: Path) -> RepoBuilder:
    return session_fixture.build(tmp_path / "repo")


# -- the fixture repository --------------------------------------------------------


def test_fixture_repository_yields_every_session(session_repo: RepoBuilder,
                                                tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    result = run(session_repo.path, db)
    assert result.warnings == []
    events = session_events(db)
    files = {sf for _, _, _, sf, _ in events}
    assert files == {f"{S}/{n}" for n in (*session_fixture.NOTES, "init.md")}
    started = {sf: d for t, _, _, sf, d in events if t == "session.started"}
    tag = session_repo.git("rev-parse", "session-20240305-091500-start^{commit}")
    end = session_repo.git("rev-parse", "session-20240305-091500-end^{commit}")
    assert started[f"{S}/20240305-091500.md"]["commit"] == tag
    ended = [d for t, _, _, sf, d in events
             if t == "session.ended" and sf == f"{S}/20240305-091500.md"]
    assert ended[0]["end_commit"] == end
    # the note with no time of its own takes the time of the commit that added it
    init = [(ts, d) for t, ts, _, sf, d in events if t == "session.started" and "init" in sf]
    assert init[0][0] == "2024-03-01T09:00:00Z" and init[0][1]["time_source"] == "commit"
    counts: dict[str, int] = {}
    for t, *_ in events:
        counts[t] = counts.get(t, 0) + 1
    assert counts == {"session.started": 5, "session.ended": 3, "session.goal": 5,
                      "session.decision": 6, "session.pattern": 2, "session.challenge": 2,
                      "session.work": 5, "session.context": 4, "session.note": 8}


def test_second_scrape_at_the_same_commit_does_nothing(session_repo: RepoBuilder,
                                                       tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    run(session_repo.path, db)
    assert run(session_repo.path, db).unchanged


def test_session_paths_option(session_repo: RepoBuilder, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    run(session_repo.path, db, options=ScrapeOptions(session_paths=("docs",)))
    assert {sf for *_, sf, _ in session_events(db)} == {"docs/notes.md"}


def test_a_changed_session_option_rereads_only_the_sessions_once(
        session_repo: RepoBuilder, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    run(session_repo.path, db, scrapers=())
    other = ScrapeOptions(session_paths=("docs",))
    changed = run(session_repo.path, db, scrapers=(), options=other)
    assert changed.per_scraper["git"] == (0, 0)
    # the code scraper reads documentation outside the session paths, so it reads its
    # units once more: README.md and the files that left them; docs/notes.md goes
    files = session_repo.git("ls-files").split()
    assert changed.per_scraper["code"] == (len(files) - 1, 2) and "docs/notes.md" in files
    assert changed.per_scraper["sessions"][0] == 1  # docs/notes.md, the others go
    assert run(session_repo.path, db, scrapers=(), options=other).unchanged  # once
    assert digest_of(db) == full_digest(session_repo.path, tmp_path, scrapers=(),
                                        options=other)


# -- malformed files -------------------------------------------------------------


def test_malformed_files_warn_once_each_and_never_stop_the_scrape(tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "repo")
    bad = {
        f"{S}/yaml.md": "---\nid: [oops\n---\n## Key Decisions\n- still read\n",
        f"{S}/plain.md": "no headings at all\n",
        f"{S}/binary.md": b"\x00\x01\x02# Session: b\n## Key Decisions\n- bin\n\n\xff\xfe\n",
        f"{S}/huge.md": "# Session: huge\n## Work Completed\n" + ("- " + "word " * 200 + "\n")
        * 5_000,  # 5 MB
        f"{S}/fence.md": "# Session: f\n## Key Decisions\n- d\n```\n## Patterns Observed\n- p\n",
    }
    good = {f"{S}/good.md": "# Session: g\n## Key Decisions\n- fine\n",
            f"{S}/empty-heading.md": "# Session: e\n## Key Decisions\n\n## Goals\n- [ ] g\n"}
    r.commit("notes", "2024-01-01T10:00:00+00:00", {**bad, **good})
    db = tmp_path / "k.db"
    result = run(r.path, db)
    warned = sorted(str(w).split(":", 1)[0] for w in result.warnings)
    assert warned == sorted(bad)
    for notice in result.warnings:
        path, line, reason = str(notice).split(":", 2)
        assert line.isdigit() and reason.strip()
    events = session_events(db)
    decisions = {d["text"] for t, *_, d in events if t == "session.decision"}
    assert {"still read", "bin", "d", "fine"} <= decisions
    assert not [d for t, *_, d in events if t == "session.pattern"]  # hidden in the fence
    statuses = dict(database.connect(db, write=False).execute(
        "SELECT unit, status FROM scrape_units WHERE scraper = 'sessions'").fetchall())
    assert statuses == {**{p: "partial" for p in bad}, **{p: "ok" for p in good}}


# -- edits, deletions, links: incremental = full ---------------------------------


def test_edit_and_delete_change_the_events(tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "repo")
    first = "# Session: a\n**Started**: 2024-01-01T10:00:00Z\n## Key Decisions\n- old choice\n"
    r.commit("a", "2024-01-01T10:00:00+00:00",
             {f"{S}/a.md": first, f"{S}/b.md": "# B\n\n- b note\n"})
    db = tmp_path / "k.db"
    run(r.path, db)
    r.commit("edit a", "2024-01-02T10:00:00+00:00",
             {f"{S}/a.md": first.replace("old choice", "new choice")})
    run(r.path, db)
    decisions = [d["text"] for t, *_, d in session_events(db) if t == "session.decision"]
    assert decisions == ["new choice"]
    assert digest_of(db) == full_digest(r.path, tmp_path)
    r.commit("drop b", "2024-01-03T10:00:00+00:00", delete=(f"{S}/b.md",))
    run(r.path, db)
    assert f"{S}/b.md" not in {sf for *_, sf, _ in session_events(db)}
    assert digest_of(db) == full_digest(r.path, tmp_path)


def test_a_tag_made_later_links_an_unchanged_session(tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "repo")
    r.commit("base", "2024-01-01T09:00:00+00:00", {"README.md": "x\n"})
    r.commit("notes", "2024-01-01T10:00:00+00:00", {
        f"{S}/s.md": "# Session: s\n**Session Tag**: s-start\n## Goals\n- [ ] g\n"})
    db = tmp_path / "k.db"
    run(r.path, db)
    started = [d for t, *_, d in session_events(db) if t == "session.started"]
    assert started[0]["commit"] is None
    r.git("tag", "s-start", "HEAD~1")
    run(r.path, db)
    started = [d for t, *_, d in session_events(db) if t == "session.started"]
    assert started[0]["commit"] == r.git("rev-parse", "HEAD~1")
    assert digest_of(db) == full_digest(r.path, tmp_path)


def test_a_new_scraper_version_reads_unchanged_units_again(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    r = RepoBuilder(tmp_path / "repo")
    r.commit("notes", "2024-01-01T10:00:00+00:00",
             {f"{S}/a.md": "# Session: a\n## Key Decisions\n- d\n"})
    db = tmp_path / "k.db"
    run(r.path, db)
    r.commit("readme", "2024-01-02T10:00:00+00:00", {"README.md": "x\n"})
    assert run(r.path, db).per_scraper["sessions"] == (0, 0)  # the note is not read again
    # an upgraded parser on the same commit: the no-op check must not keep the old events
    monkeypatch.setitem(VERSIONS, "sessions", VERSIONS["sessions"] + 1)
    result = run(r.path, db)
    assert not result.unchanged
    assert result.per_scraper["sessions"] == (1, 1)  # events of the old parser go
    assert result.per_scraper["git"] == (0, 0)  # nothing else is read again


_NAMES = (f"{S}/20240101-090000.md", f"{S}/notes.md", f"{S}/deep/free.md", "docs/other.md")
_CONTENTS = (
    "# Session: h\n**ID**: 20240101-090000\n**Started**: 2024-01-01T14:00:00Z\n"
    "**Session Tag**: t-start\n## Activity Log\n### 09:00 - U\n**Key Decisions:**\n- one\n"
    "### 08:00 - U\n**Key Decisions:**\n- two\n",
    "---\nid: fm\ncreated: 2024-01-02T00:00:00Z\ngit:\n  start_tag: t-start\n---\n"
    "## Goals\n- [x] done\n",
    "# Free\n\nsome words\n\n## Decisions\n- pick\n",
    "# Free\n\nother words, edited\n",
    "---\nbroken: [\n---\n```\n## Key Decisions\n",
)


@st.composite
def _histories(draw: st.DrawFn) -> list[tuple[str, Any]]:
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["write", "write", "delete", "rename", "tag"]))
        if op == "write":
            steps.append((op, (draw(st.sampled_from(_NAMES)), draw(st.sampled_from(_CONTENTS)))))
        elif op in ("delete", "rename"):
            steps.append((op, (draw(st.sampled_from(_NAMES)), draw(st.sampled_from(_NAMES)))))
        else:
            steps.append((op, None))
    return steps


def _replay(path: Path, steps: list[tuple[str, Any]]) -> list[str]:
    r = RepoBuilder(path)
    r.commit("root", "2024-01-01T00:00:00+00:00", {"README.md": "x\n"})
    shas = [r.head()]
    for n, (op, arg) in enumerate(steps, start=1):
        date = f"2024-01-{1 + n:02d}T12:00:00+00:00"
        present = set(r.git("ls-files").splitlines())
        if op == "write":
            r.commit(f"write {n}", date, {arg[0]: arg[1]}, allow_empty=True)
        elif op == "delete" and arg[0] in present:
            r.commit(f"delete {n}", date, delete=(arg[0],))
        elif op == "rename" and arg[0] in present and arg[1] not in present:
            (path / arg[1]).parent.mkdir(parents=True, exist_ok=True)
            r.git("mv", arg[0], arg[1])
            r.commit(f"rename {n}", date)
        elif op == "tag" and "t-start" not in r.git("tag").split():
            # tags the new commit, so scrapes of earlier commits do not see it yet
            r.commit(f"tagged {n}", date, allow_empty=True)
            r.git("tag", "t-start")
        else:
            r.commit(f"nothing {n}", date, allow_empty=True)
        shas.append(r.head())
    return shas


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=_histories(), stops=st.lists(st.integers(0, 5), max_size=3))
# always: a tag appears after the session naming it was scraped; a file is edited,
# renamed and deleted between incremental scrapes
@example(steps=[("write", (_NAMES[0], _CONTENTS[0])), ("write", (_NAMES[2], _CONTENTS[2])),
                ("tag", None)], stops=[1, 2])
@example(steps=[("write", (_NAMES[1], _CONTENTS[2])), ("write", (_NAMES[1], _CONTENTS[3])),
                ("rename", (_NAMES[1], _NAMES[2])), ("delete", (_NAMES[2], _NAMES[0])),
                ("write", (_NAMES[2], _CONTENTS[4]))], stops=[1, 2, 3, 4])
def test_i2_incremental_equals_full_with_edited_and_deleted_sessions(
    steps: list[tuple[str, Any]], stops: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = root / "repo"
        shas = _replay(repo, steps)
        builder = RepoBuilder.__new__(RepoBuilder)
        builder.path = repo
        db = root / "inc.db"
        for stop in sorted(stops):
            builder.git("checkout", "-q", shas[min(stop, len(shas) - 1)])
            run(repo, db)
        builder.git("checkout", "-q", "main")
        run(repo, db)
        full = root / "full.db"
        run(repo, full)
        assert digest_of(db) == digest_of(full)
        assert session_events(db) == session_events(full)


# -- --worktree and the CLI ------------------------------------------------------------


def test_worktree_reads_uncommitted_files(session_repo: RepoBuilder, tmp_path: Path,
                                          kenning: Runner) -> None:
    (session_repo.path / S / "draft.md").write_text("# Draft\n\n## Key Decisions\n- unsaved\n")
    init = session_repo.path / S / "init.md"
    init.write_text(init.read_text() + "\n## Decisions\n- edited on disk\n")
    db = tmp_path / "k.db"
    run(session_repo.path, db)
    texts = {d.get("text") for *_, d in session_events(db)}
    assert "unsaved" not in texts and "edited on disk" not in texts
    run(session_repo.path, db, options=ScrapeOptions(worktree=True))
    texts = {d.get("text") for *_, d in session_events(db)}
    assert {"unsaved", "edited on disk"} <= texts
    out = kenning("digest", "--db", str(db), cwd=session_repo.path).stdout
    assert "not reproducible" in out
    # and back: without --worktree the committed content returns
    run(session_repo.path, db)
    texts = {d.get("text") for *_, d in session_events(db)}
    assert "unsaved" not in texts and "edited on disk" not in texts
    assert digest_of(db) == full_digest(session_repo.path, tmp_path)


def test_cli_scrape_writes_session_events(session_repo: RepoBuilder, kenning: Runner) -> None:
    # --no-embed: the embedding model is not what this test is about, and it is slow
    proc = kenning("scrape", "--no-embed", cwd=session_repo.path)
    assert "session.decision" in proc.stdout and "session.started" in proc.stdout
    db = session_repo.path / ".kenning" / "kenning.db"
    assert len([e for e in session_events(db) if e[0] == "session.started"]) == 5
    proc = kenning("scrape", "sessions", "--no-embed", "--sessions", "docs", "--json",
                   cwd=session_repo.path)
    assert json.loads(proc.stdout)["warnings"] == []
    assert {sf for *_, sf, _ in session_events(db)} == {"docs/notes.md"}


def test_process_count_does_not_change_the_eventlog(tmp_path: Path) -> None:
    """Enough files for the process pool: one worker and two give the same log (I1)."""
    r = RepoBuilder(tmp_path / "repo")
    names = (*session_fixture.NOTES, "init.md")
    r.commit("many notes", "2024-03-08T18:00:00+00:00", {
        f"{S}/{n:03d}-{name}": session_fixture.note(name) + f"\n## Notes\n- copy {n}\n"
        for n in range(70) for name in names[n % len(names):][:1]})
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    run(r.path, one, options=ScrapeOptions(workers=1))
    run(r.path, two, options=ScrapeOptions(workers=2))
    assert len({e[3] for e in session_events(one)}) == 70
    assert digest_of(one) == digest_of(two)
