"""The re-ranking vectors of a `static-rerank` database made ahead of the questions
(kenning/embed/fill.py): after a fill a question embeds nothing, and its answers are the
ones it would have computed itself."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kenning.embed import fill
from kenning.eventlog import database
from kenning.processes import alive
from tests.conftest import Runner
from tests.test_embed_rerank import QUESTIONS, answers, use_cache


def missing_now(db: Path) -> list[str]:
    conn = database.connect(db, write=False)
    try:
        model = fill.reranker(conn)
        assert model is not None and model.name == "minilm"
        return fill.missing(conn, model)
    finally:
        conn.close()


def test_after_a_fill_a_question_embeds_nothing_and_answers_the_same(
        reranked: Path, history_repo: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_cache(monkeypatch, tmp_path / "asked.sqlite")
    assert "re-ranking vectors itself" in made_note(history_repo, reranked)
    asked = answers(history_repo, reranked, QUESTIONS)  # each question made its own
    use_cache(monkeypatch, tmp_path / "filled.sqlite")
    todo = len(missing_now(reranked))
    assert todo > 0
    assert fill.fill(reranked) == todo
    assert missing_now(reranked) == []
    assert fill.fill(reranked) == 0  # nothing left: nothing done

    from kenning.embed.models import EmbeddingModel

    static_encoder = EmbeddingModel.bulk_encoder

    def only_static(self: EmbeddingModel) -> object:
        assert self.name != "minilm", "MiniLM embedded at query time after a fill"
        return static_encoder(self)

    monkeypatch.setattr(EmbeddingModel, "bulk_encoder", only_static)
    assert answers(history_repo, reranked, QUESTIONS) == asked
    assert made_note(history_repo, reranked) == ""


def made_note(repo: Path, db: Path) -> str:
    """What a hybrid question's answer says about the re-ranking vectors it made."""
    import kenning

    with kenning.open(repo, db=db) as k:
        return " ".join(n for n in k.scry(QUESTIONS[0]).notes if "re-ranking" in n)


def test_a_database_whose_vectors_nobody_reranks_needs_no_fill(
        history_repo: Path, tmp_path: Path) -> None:
    import kenning
    from kenning.repository.gitrepo import GitRepo
    from tests.conftest import update

    db = tmp_path / "k.db"
    update(GitRepo.discover(history_repo), db, embed=False)
    with kenning.open(history_repo, db=db) as k:
        assert k.fill_vectors() is None  # no embeddings table at all
    conn = database.connect(db, write=False)
    try:
        assert fill.reranker(conn) is None
    finally:
        conn.close()


def test_the_lock_says_whether_a_fill_runs(reranked: Path) -> None:
    assert not fill.running(reranked)
    with fill._locked(reranked, wait=False) as got:
        assert got
        assert fill.running(reranked)
    assert not fill.running(reranked)


def test_fills_of_two_databases_take_turns(reranked: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """One fill per user embeds at a time (they share the cores and the vector cache): a
    fill that finds another's turn taken says so and waits for it, then does its work."""
    import threading

    from kenning.progress import Silent

    use_cache(monkeypatch, tmp_path / "turns.sqlite")
    todo = len(missing_now(reranked))
    waiting = threading.Event()

    class Watch(Silent):
        def note(self, message: str) -> None:
            assert "waiting for another database" in message
            waiting.set()

    made: list[int] = []
    with fill._turn(None):  # another database's fill has the turn
        worker = threading.Thread(target=lambda: made.append(fill.fill(reranked, Watch())))
        worker.start()
        assert waiting.wait(timeout=300)  # a bound against a hang, not a timing assertion
        assert len(missing_now(reranked)) == todo and made == []
    worker.join(timeout=300)
    assert made == [todo] and missing_now(reranked) == []


def test_scrape_makes_the_vectors_in_the_background_and_says_so(
        history_repo: Path, tmp_path: Path, kenning: Runner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The real commands: the scrape returns, a detached child embeds, the cache fills."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no other test's vectors
    recipe = history_repo / ".kenning" / "recipe.toml"
    recipe.parent.mkdir(exist_ok=True)
    recipe.write_text('[materialize.embeddings]\nmodel = "static-rerank"\n')
    background = {fill.NO_BACKGROUND_ENV: ""}  # the suite sets it: no test leaves a child
    quiet = kenning("scrape", "--no-background", cwd=history_repo, env=background)
    assert "background" not in quiet.stderr
    db = history_repo / ".kenning" / "kenning.db"
    todo = len(missing_now(db))
    assert todo > 0

    kenning("materialize", "embeddings", "--rebuild", cwd=history_repo)
    assert len(missing_now(db)) == todo  # the environment's switch: none started either
    status = json.loads(kenning("status", "--json", cwd=history_repo).stdout)
    assert status["rerank"] == {"model": "minilm", "missing": todo, "filling": False}
    assert f"{todo} minilm vectors not made yet" in kenning("status", cwd=history_repo).stdout
    # nothing to catch up, but the vectors are missing: `materialize` starts the fill
    done = kenning("materialize", cwd=history_repo, env=background)
    assert f"MiniLM makes {todo} re-ranking vectors in the background (pid " in done.stderr
    pid = int(done.stderr.split("(pid ")[1].split(")")[0])
    deadline = time.monotonic() + 300  # a bound against a hang, not a timing assertion
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid)
    assert missing_now(db) == []
    assert json.loads(kenning("status", "--json", cwd=history_repo).stdout)["rerank"][
        "missing"] == 0


def test_a_background_fill_runs_this_kenning_wherever_it_is_started(
        reranked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started from a clone of kenning (a `kenning` package in the current directory),
    the detached fill still runs the kenning that started it, not the clone's."""
    shadow = tmp_path / "clone"
    (shadow / "kenning").mkdir(parents=True)
    marker = tmp_path / "the clone's kenning ran"
    (shadow / "kenning" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no other test's vectors
    monkeypatch.setenv(fill.NO_BACKGROUND_ENV, "")
    monkeypatch.chdir(shadow)
    assert missing_now(reranked)
    pid = fill.start(reranked)
    assert pid is not None
    deadline = time.monotonic() + 300  # a bound against a hang, not a timing assertion
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not marker.exists()
    assert missing_now(reranked) == []


def test_a_fill_runs_only_when_no_one_else_wants_the_cpu(tmp_path: Path,
                                                          kenning: Runner) -> None:
    """SCHED_IDLE, and the lowest weight for its session's autogroup: without the latter a
    question beside a detached fill took twice as long (the CPU is shared by session first)."""
    import subprocess
    import sys

    probe = ("import os\nfrom kenning.embed.fill import _lowest_priority\n_lowest_priority()\n"
             "print(os.sched_getscheduler(0) == os.SCHED_IDLE)\n"
             "print(open('/proc/self/autogroup').read().split()[-1])\n")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True, start_new_session=True).stdout.split()
    assert shown == ["True", "19"]


def test_the_cache_knows_which_texts_it_holds_per_model(tmp_path: Path) -> None:
    import numpy as np

    from kenning.embed.cache import VectorCache

    cache = VectorCache(tmp_path / "vectors.sqlite")
    one = np.ones(384, dtype=np.float32)
    cache.put_many("a", [("h1", one), ("h2", one)])
    cache.put_many("b", [("h3", one)])
    hashes = ["h1", "h2", "h3", "h4", "h1"] * 300  # past one 500-hash chunk
    assert cache.known("a", hashes) == {"h1", "h2"}
    assert cache.known("a", hashes) == set(cache.get_many("a", hashes))
    assert cache.known("b", hashes) == {"h3"}
    cache.close()
