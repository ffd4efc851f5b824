"""`static-rerank`: static vectors in bulk, MiniLM re-scoring the best candidates at query
time, with every MiniLM vector paid once into the user's vector cache.

The static table is a seeded random one (distilling the real one takes a minute); the
re-ranker is the real MiniLM.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from kenning.embed.cache import VectorCache, text_hash
from kenning.embed.model import DIMENSIONS, MODEL_ID

QUESTIONS = ["where is the greeting made", "parse text split on tabs",
             "why was the app moved to core", "release notes and the logo"]


def use_cache(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    from kenning.embed import cache

    monkeypatch.setattr(cache, "default_cache_path", lambda: path)


def answers(repo: Path, db: Path, questions: list[str]) -> dict[tuple[str, str], list[tuple]]:
    import kenning

    out = {}
    with kenning.open(repo, db=db) as k:
        for q in questions:
            for mode in ("semantic", "hybrid"):
                found = k.scry(q, mode=mode).results
                out[q, mode] = [(r.event_id, r.score, r.title) for r in found]
    return out


def test_answers_are_the_same_with_a_cold_vector_cache_or_a_warm_one(
        reranked: Path, history_repo: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = hashlib.sha256(reranked.read_bytes()).hexdigest()
    use_cache(monkeypatch, tmp_path / "cold.sqlite")
    cold = answers(history_repo, reranked, QUESTIONS)
    assert all(cold.values())
    assert answers(history_repo, reranked, QUESTIONS) == cold  # warm: read back
    use_cache(monkeypatch, tmp_path / "other.sqlite")  # another history of questions
    assert answers(history_repo, reranked, QUESTIONS[::-1]) == cold
    half = answers(history_repo, reranked, QUESTIONS[2:])  # a cache half filled before
    use_cache(monkeypatch, tmp_path / "other.sqlite")
    assert answers(history_repo, reranked, QUESTIONS) == cold
    assert all(half[key] == cold[key] for key in half)
    # asking changed nothing in the database
    assert hashlib.sha256(reranked.read_bytes()).hexdigest() == before


def test_the_query_time_cache_holds_exactly_minilm_vectors_of_the_documents_texts(
        reranked: Path, history_repo: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.embed.models import embedding_model
    from kenning.embed.onnx_encoder import OnnxEncoder
    from kenning.eventlog import database
    from kenning.eventlog.reader import read_events
    from kenning.materialize.embeddings import embedding_text

    use_cache(monkeypatch, tmp_path / "cold.sqlite")
    answers(history_repo, reranked, QUESTIONS[:1])
    conn = database.connect(reranked, write=False)
    texts = {text_hash(t): t for t in (embedding_text(e, False) for e in read_events(
        conn, [str(r[0]) for r in conn.execute("SELECT event_id FROM embeddings")]))
        if t is not None}
    conn.close()
    cache = VectorCache(tmp_path / "cold.sqlite")
    rows = cache.conn.execute("SELECT model, text_hash, vector FROM vectors").fetchall()
    cache.close()
    assert {r[0] for r in rows} == {MODEL_ID} == {embedding_model("minilm").vectors_id}
    assert {r[1] for r in rows} == set(texts)  # a small repository: every text is a candidate
    bulk = OnnxEncoder().encode([texts[str(r[1])] for r in rows])  # what `minilm` stores
    cached = np.stack([np.frombuffer(r[2], dtype="<f4") for r in rows])
    assert np.abs(cached - bulk).max() < 1e-6  # the same vectors, to float rounding


def test_the_re_ranker_orders_the_static_pass_best_candidates_by_minilm_and_static_cosine(
        reranked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.embed.encode import query_encoder
    from kenning.embed.numpy_encoder import NumpyEncoder
    from kenning.embed.rerank import FIRST_PASS_WEIGHT
    from kenning.eventlog import database
    from kenning.scry import semantic
    from kenning.scry.filters import Filters

    use_cache(monkeypatch, tmp_path / "cold.sqlite")
    monkeypatch.setattr(semantic, "RERANK_TOP", 4)
    conn = database.connect(reranked, write=False)
    index = semantic.SemanticIndex(conn)
    model_id = index.matrix().model_id
    assert model_id.endswith(">" + MODEL_ID)
    question = "parse text split on tabs"
    pair = query_encoder(model_id).encode([question])[0]
    assert pair.shape == (2 * DIMENSIONS,)
    first = index.matrix().vectors @ pair[:DIMENSIONS]
    static_best = {int(index.matrix().doc_ids[i]) for i in np.argsort(-first)[:4]}
    found = index.search(pair, Filters(), limit=3)
    assert len(found) == 3 and {d for d, _ in found} <= static_best
    q = NumpyEncoder().encode([question])[0]
    cache = VectorCache(tmp_path / "cold.sqlite")
    for doc_id, score in found:
        (h,) = conn.execute("SELECT e.text_hash FROM embeddings e JOIN documents d "
                            "USING (event_id) WHERE d.doc_id = ?", (doc_id,)).fetchone()
        row = int(np.flatnonzero(index.matrix().doc_ids == doc_id)[0])
        expected = float(cache.get_many(MODEL_ID, [h])[h] @ q) + FIRST_PASS_WEIGHT * first[row]
        assert score == pytest.approx(expected, abs=1e-5)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert cache.count(MODEL_ID) == 4  # only the candidates were paid for
    cache.close()
    conn.close()


def test_re_ranking_beside_the_lexical_arm_changes_no_answer_and_closes_with_the_handle(
        reranked: Path, history_repo: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import apsw

    import kenning
    from kenning.eventlog import database

    use_cache(monkeypatch, tmp_path / "cache.sqlite")
    beside = answers(history_repo, reranked, QUESTIONS)  # its own connection, on a thread
    with monkeypatch.context() as patched:  # the one connection, after the lexical arm
        patched.setattr(database, "another_reader", lambda conn: conn)
        assert answers(history_repo, reranked, QUESTIONS) == beside
    with kenning.open(history_repo, db=reranked) as k:
        k.scry(QUESTIONS[0])
        second = k.searcher()._reader
        assert second is not None and second is not k.searcher().conn
    with pytest.raises(apsw.ConnectionClosedError):
        second.execute("SELECT 1")


def test_an_open_sentence_the_index_finds_among_commits_puts_history_first_and_says_why(
        reranked: Path, history_repo: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import kenning
    from kenning.scry import intent

    use_cache(monkeypatch, tmp_path / "cache.sqlite")
    told = "greeting made in the app"  # not a question, not a change: its words settle nothing
    assert intent.is_open(told)
    with kenning.open(history_repo, db=reranked) as k:
        for found in (True, False):  # the index's verdict (the scores are unit-tested)
            monkeypatch.setattr(intent, "neighbours_say_history",
                                lambda *scores, verdict=found: verdict)
            answer = k.scry(told)
            assert answer.intent == ("history" if found else "code")
            assert (answer.results[0].kind != "code") == found
            why = [step for r in answer.results for step in r.steps if "history first" in step]
            assert bool(why) == found
            assert k.scry(told, mode="lexical").intent == "code"  # hybrid only
