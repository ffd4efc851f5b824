"""scry's search: the three modes, fusion, filters before the cut, and bad input."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from kenning.errors import KenningError
from kenning.scry.filters import Filters
from kenning.scry.fusion import rrf
from kenning.scry.lexical import fts_query, query_terms
from kenning.scry.search import Searcher, snippet
from tests import test_scry_corpus as scry_corpus


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    path = scry_corpus.build(tmp_path_factory.mktemp("scry") / "k.db")
    return Searcher(apsw.Connection(str(path)))


def sources(answer: object) -> list[str]:
    return [r.source for r in answer.results]  # type: ignore[attr-defined]


def test_rrf_adds_reciprocal_ranks_and_breaks_ties_by_id() -> None:
    fused = rrf({"lexical": [(1, 9.0), (2, 5.0)], "semantic": [(2, 0.9), (3, 0.8)]}, k=60)
    assert [d for d, _, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[0][2] == {"lexical": (2, 5.0), "semantic": (1, 0.9)}
    assert [d for d, _, _ in rrf({"a": [(5, 1.0)], "b": [(4, 1.0)]})] == [4, 5]


def _ranked(places: dict[int, int], size: int, filler: int) -> list[tuple[int, float]]:
    """A ranked list of `size` (doc_id, score) with doc `d` at rank `places[d]`."""
    at = {rank: doc for doc, rank in places.items()}
    return [(at.get(r, filler + r), 0.0) for r in range(1, size + 1)]


def test_rrf_ties_follow_the_key_even_when_float_sums_differ() -> None:
    # ranks (1, 2, 7) and (7, 1, 2) fuse to the same score, but adding the three
    # reciprocals in arm order gives sums that differ in the last bit
    x, y = 1, 2
    arms = {"a": _ranked({x: 1, y: 7}, 7, 100), "b": _ranked({y: 1, x: 2}, 7, 200),
            "c": _ranked({y: 2, x: 7}, 7, 300)}
    assert (1 / 61 + 1 / 62) + 1 / 67 != (1 / 67 + 1 / 61) + 1 / 62
    names = {x: "e1", y: "e0"}
    fused = rrf(arms, key=lambda d: names.get(d, f"z{d}"))
    assert [d for d, _, _ in fused[:2]] == [y, x]
    assert fused[0][1] == fused[1][1]
    assert [d for d, _, _ in rrf({"a": [(5, 1.0)], "b": [(4, 1.0)]},
                                 key={5: "e0", 4: "e1"}.__getitem__)] == [5, 4]


# Twin functions (equal BM25, equal vectors) and a pair that fuses to a tie: one
# function is lexical's first and semantic's second, the other the other way round.
_TWIN = "close_pool\ndef close_pool(pool)\nClose every connection of the pool."
TIES = [
    ("code", "code.function", "2024-01-01T00:00:00Z", "a/db.py:1", None, ["a/db.py"],
     "close_pool", _TWIN),
    ("code", "code.function", "2024-01-01T00:00:00Z", "b/db.py:1", None, ["b/db.py"],
     "close_pool", _TWIN),
    ("code", "code.function", "2024-01-02T00:00:00Z", "cli/flags.py:1", None, ["cli/flags.py"],
     "parse_log_rotation_flag", "parse_log_rotation_flag\ndef parse_log_rotation_flag(argv)\n"
     "Read the log rotation option from the command line arguments."),
    ("code", "code.function", "2024-01-03T00:00:00Z", "ops/cron.py:1", None,
     ["ops/cron.py"], "archive_server_output",
     "archive_server_output\ndef archive_server_output()\nEvery night the server output is "
     "archived and each day begins with empty files, a daily rotation."),
]


@pytest.mark.parametrize("mode", ["lexical", "semantic", "hybrid"])
def test_ties_come_out_in_event_id_order_in_every_build(tmp_path: Path, mode: str) -> None:
    # doc_id is a local handle: inserted last first, the same documents get other
    # doc_ids, as in an incrementally built database and its rebuild
    runs = []
    for reverse in (False, True):
        db = scry_corpus.build(tmp_path / f"{reverse}.db", docs=TIES, reverse=reverse)
        searcher = Searcher(apsw.Connection(str(db)))
        runs.append([searcher.search(q, mode=mode, limit=4).results
                     for q in ("close every connection of the pool",
                               "nightly rotation of server logs")])
    (twins, crossed), (twins_reversed, crossed_reversed) = runs
    assert twins[0].score == twins[1].score  # an arm cannot tell them apart: one rank
    assert [r.event_id for r in twins][:2] == ["e0", "e1"]  # a/db.py before b/db.py
    assert [r.event_id for r in twins_reversed] == [r.event_id for r in twins]
    assert [r.event_id for r in crossed_reversed] == [r.event_id for r in crossed]
    if mode == "hybrid":  # the pair is a tie in fusion, decided by event id
        first, second = crossed[0], crossed[1]
        assert first.arms["lexical"][0] == second.arms["semantic"][0] == 1
        assert first.arms["semantic"][0] == second.arms["lexical"][0] == 2
        assert first.score == second.score and first.event_id == "e2"


def test_query_terms_split_identifiers_and_drop_syntax() -> None:
    assert query_terms("why did we SpawnEntity") == ["spawnentity", "spawn", "entity"]
    assert query_terms("spawn_entity") == ["spawn_entity", "spawn", "entity"]
    assert fts_query('"foo" OR 1=1 --') == '"foo" OR "1"'
    assert fts_query("NEAR( a* \"unbalanced") == '"near" OR "unbalanced"'
    assert fts_query("?!--") is None


def test_lexical_finds_exact_words(searcher: Searcher) -> None:
    answer = searcher.search("exponential backoff", mode="lexical", limit=3)
    assert answer.mode == "lexical"
    # code first; the commit that says "exponential backoff" is why its file is here
    top = answer.results[0]
    assert (top.source, top.path, top.start_line) == ("net/retry.py:12", "net/retry.py", 12)
    assert [e["source"] for e in top.evidence] == ["b" * 40]
    commits = searcher.search("exponential backoff", mode="lexical", limit=3,
                              filters=Filters(types=("commit",)))
    assert commits.results[0].source == "b" * 40
    assert "backoff" in commits.results[0].snippet
    assert searcher.search("retry_with_backoff", mode="lexical").results[0].kind == "code"


def test_semantic_finds_a_paraphrase_with_no_shared_word(searcher: Searcher) -> None:
    query = "why did we consolidate storage instead of one db per client"
    assert searcher.search("unify client", mode="lexical").results == []
    top = sources(searcher.search(query, mode="semantic", limit=3))
    assert {"a" * 40, "20240104-090000"} & set(top[:2])
    connectivity = sources(searcher.search("unreliable connectivity to the remote service",
                                           mode="semantic", limit=2,
                                           filters=Filters(types=("session",))))
    assert "20240202-090000" in connectivity


def test_hybrid_fuses_both_arms_and_explains(searcher: Searcher) -> None:
    answer = searcher.search("retry requests with backoff", limit=4,
                             filters=Filters(types=("commit",)))
    assert answer.mode == "hybrid"
    first = answer.results[0]
    assert set(first.arms) == {"lexical", "semantic"}
    # a question in words weighs both arms alike (alpha 0.5)
    assert first.score == pytest.approx(sum(0.5 / (60 + r) for r, _ in first.arms.values()))
    explained = first.as_json(explain=True)["explain"]
    assert set(explained["arms"]) == {"lexical", "semantic"}
    assert explained["arms"]["lexical"]["rank"] >= 1 and explained["why"]
    scores = [r.score for r in answer.results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["lexical", "semantic", "hybrid"])
def test_filters_apply_before_the_top_k_cut(searcher: Searcher, mode: str) -> None:
    # the best match overall for this query is a commit; with --type code and
    # --limit 1 the one result must still be the best *code* match
    code = searcher.search("retry failed requests", mode=mode, limit=1,
                           filters=Filters(types=("code",)))
    assert [r.source for r in code.results] == ["net/retry.py:12"]
    decisions = searcher.search("database", mode=mode, limit=5,
                                filters=Filters(types=("session.decision",)))
    assert {r.event_type for r in decisions.results} == {"session.decision"}
    commits = searcher.search("database", mode=mode, filters=Filters(author="bob"))
    assert {r.author for r in commits.results} <= {"Bob Builder"}
    dated = searcher.search("retry", mode=mode,
                            filters=Filters(since="2024-02-01", until="2024-02-28"))
    assert dated.results and all("2024-02" in r.timestamp for r in dated.results)
    folder = searcher.search("database", mode=mode, filters=Filters(path="db"))
    assert folder.results and all(any(p.startswith("db/") for p in r.paths)
                                  for r in folder.results)


@pytest.mark.parametrize("glob", ["ui/[[]draft]/*", "docs/100%.md", "*.tsx", "'; DROP TABLE x",
                                  "ui/[draft", "**/*", "db/"])
def test_path_globs_with_special_characters(searcher: Searcher, glob: str) -> None:
    answer = searcher.search("page", mode="lexical", filters=Filters(path=glob))
    if glob in ("ui/[[]draft]/*", "*.tsx", "**/*"):
        assert "ui/[draft]/page.tsx:1" in sources(answer)
    if glob == "'; DROP TABLE x":
        assert answer.results == []


@pytest.mark.parametrize("query", ['"foo" OR 1=1 --', "NEAR(", 'unbalanced "quote', "a*b:c^",
                                   "SELECT * FROM documents; --", "-", "🚀 数据库"])
@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_query_syntax_is_never_interpreted(searcher: Searcher, query: str, mode: str) -> None:
    answer = searcher.search(query, mode=mode, limit=3)
    assert len(answer.results) <= 3


def test_a_huge_query_is_cut_with_a_note(searcher: Searcher) -> None:
    answer = searcher.search("database " * 1250, limit=2)  # 11,250 characters
    assert answer.results and any("cut" in n for n in answer.notes)


@pytest.mark.parametrize("bad", ["", "   \n\t"])
def test_empty_query_is_a_clear_error(searcher: Searcher, bad: str) -> None:
    with pytest.raises(KenningError, match="empty"):
        searcher.search(bad)


def test_unknown_type_and_mode_are_clear_errors(searcher: Searcher) -> None:
    with pytest.raises(KenningError, match="unknown --type 'wiki'"):
        searcher.search("x", filters=Filters(types=("wiki",)))
    with pytest.raises(KenningError, match="unknown --mode"):
        searcher.search("x", mode="fuzzy")
    with pytest.raises(KenningError, match="cannot read --since 'some tuesday'"):
        searcher.search("x", filters=Filters(since="some tuesday"))


def test_without_embeddings_semantic_says_how_and_hybrid_falls_back(tmp_path: Path) -> None:
    conn = apsw.Connection(str(scry_corpus.build(tmp_path / "k.db", embed=False)))
    searcher = Searcher(conn)
    with pytest.raises(KenningError, match="kenning materialize embeddings"):
        searcher.search("database", mode="semantic")
    answer = searcher.search("database")
    assert answer.mode == "lexical" and answer.results
    assert "no embeddings" in answer.notes[0]


def test_no_search_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KenningError, match="kenning scrape"):
        Searcher(apsw.Connection(str(tmp_path / "empty.db")))


def test_snippet_centres_on_a_query_word() -> None:
    body = "intro " * 60 + "the backoff policy doubles the pause " + "tail " * 60
    text = snippet(body, ["backoff"])
    assert "backoff" in text and text.startswith("…") and text.endswith("…")
    words = set(body.split())
    assert all(word in words for word in text.strip("…").split())  # never cut mid-word
    assert snippet("short body", ["x"]) == "short body"


def test_a_long_lived_searcher_answers_as_a_one_shot_one(tmp_path: Path) -> None:
    """A server's searcher encodes queries with onnxruntime, the CLI's with numpy: the
    same answers, from vectors that agree to float rounding."""
    from kenning.embed.encode import query_encoder
    from kenning.embed.model import MODEL_ID
    from kenning.embed.numpy_encoder import NumpyEncoder
    from kenning.embed.onnx_encoder import OnnxEncoder

    questions = ["why did we consolidate storage", "retry a request that failed",
                 "draft page rendering", "SqliteStore"]
    assert isinstance(query_encoder(MODEL_ID, long_lived=True), OnnxEncoder)
    assert isinstance(query_encoder(MODEL_ID), NumpyEncoder)
    fast = query_encoder(MODEL_ID, long_lived=True).encode(questions)
    light = query_encoder(MODEL_ID).encode(questions)
    assert abs(fast - light).max() < 1e-5
    path = scry_corpus.build(tmp_path / "k.db")
    long_lived = Searcher(apsw.Connection(str(path)), long_lived=True)
    for question in questions:
        for mode in ("semantic", "hybrid"):
            one_shot = Searcher(apsw.Connection(str(path)))  # the CLI's: one question
            assert (sources(long_lived.search(question, mode=mode))
                    == sources(one_shot.search(question, mode=mode))), (question, mode)
            assert one_shot.long_lived  # a second question would take onnxruntime
