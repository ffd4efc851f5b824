"""The retrieval metrics of `kenning eval`, on hand-checked rankings, and the queries'
own commits (and the merges that bring them in) kept out of their answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import apsw
import pytest

from fixtures.builder import BOB, RepoBuilder
from kenning.errors import KenningError
from kenning.repository.gitrepo import GitRepo
from kenning.scry.evaluate import (
    CommitGraph,
    ModeScore,
    Query,
    comparisons,
    evaluate,
    generate,
    later_names,
    load_queryset,
    paired_bootstrap,
    score_results,
)
from kenning.scry.search import Searcher
from tests import test_scry_corpus as scry_corpus
from tests.conftest import update


def test_reciprocal_rank_and_recall() -> None:
    ranked = [["x.py"], ["a.py", "z.py"], ["b.py"], [], ["c.py"], ["d.py"]]
    rr, r5, r10 = score_results(ranked, ("a.py", "c.py", "d.py", "q.py"))
    assert rr == 0.5
    assert r5 == 0.5  # a.py and c.py in the top five
    assert r10 == 0.75
    assert score_results([], ("a.py",)) == (0.0, 0.0, 0.0)


def test_evaluate_excludes_the_source_and_scores_each_mode(tmp_path: Path) -> None:
    conn = apsw.Connection(str(scry_corpus.build(tmp_path / "k.db")))
    query = Query("1", "Retry failed HTTP requests with exponential backoff", ("net/retry.py",))
    hidden = Query("2", query.query, query.relevant, exclude_sources=("b" * 40,))
    scores = evaluate(Searcher(conn), [query])
    assert [s.mode for s in scores] == ["hybrid", "lexical", "semantic"]
    assert all(s.mrr == 1.0 and s.recall_at_10 == 1.0 for s in scores)
    # without its own commit the code that implements it is still found
    for s in evaluate(Searcher(conn), [hidden]):
        assert 0 < s.mrr <= 1.0 and s.recall_at_10 == 1.0


@pytest.mark.parametrize("text", ["not json", '{"q": []}', '{"queries": []}',
                                  '{"queries": [{"query": "x", "relevant_docs": "a.py"}]}'])
def test_bad_query_sets_are_clear_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "q.json"
    path.write_text(text)
    with pytest.raises(KenningError, match="q.json"):
        load_queryset(path)


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[apsw.Connection, dict[str, str]]:
    """A repository where a pull request brings in the only commit about upload retries
    (its merge message repeats the commit's subject, as GitHub's do), a nested branch
    is merged into that pull request first, and an unrelated branch is merged too."""
    root = tmp_path_factory.mktemp("eval-merges")
    r = RepoBuilder(root / "repo")
    shas = {"base": r.commit("Initial layout", "2024-01-01T10:00:00+00:00",
                             {"README.md": "app\n", "src/app.py": "x = 1\n"})}
    r.checkout("main", new_branch="retry")
    # .cfg files: no document of their own, so only the commits can answer
    shas["retry"] = r.commit("Retry failed uploads with exponential backoff",
                             "2024-01-02T10:00:00+00:00", {"docs/uploads.cfg": "retries\n"})
    r.checkout("retry", new_branch="retry-docs")
    shas["nested"] = r.commit("Describe the upload backoff schedule",
                              "2024-01-03T10:00:00+00:00", {"docs/schedule.cfg": "1 2 4 8\n"})
    r.checkout("retry")
    shas["nested_merge"] = r.merge("retry-docs", "Merge branch 'retry-docs' into retry\n\n"
                                   "Describe the upload backoff schedule",
                                   "2024-01-04T10:00:00+00:00")
    r.checkout("main")
    shas["mainline"] = r.commit("Rename the settings module", "2024-01-05T10:00:00+00:00",
                                {"src/settings.py": "DEBUG = False\n"}, author=BOB)
    shas["merge"] = r.merge("retry", "Merge pull request #7 from alice/retry\n\n"
                            "Retry failed uploads with exponential backoff",
                            "2024-01-06T10:00:00+00:00")
    r.checkout("main", new_branch="other")
    shas["other"] = r.commit("Log slow queries", "2024-01-07T10:00:00+00:00",
                             {"src/log.py": "slow = 1\n"})
    r.checkout("main")
    shas["other_merge"] = r.merge("other", "Merge pull request #8 from alice/other\n\n"
                                  "Log slow queries", "2024-01-08T10:00:00+00:00")
    db = root / "k.db"
    update(GitRepo.discover(r.path), db, embed=False)
    return apsw.Connection(str(db)), shas


def test_a_merge_that_brings_a_commit_in_is_found(
        merged: tuple[apsw.Connection, dict[str, str]]) -> None:
    conn, shas = merged
    graph = CommitGraph.load(conn)
    # the pull request's merge; not the nested merge (the commit was already on its
    # first parent) and not the unrelated merge
    assert graph.merges_bringing(shas["retry"]) == [shas["merge"]]
    # the nested branch's commit came in twice: into the pull request, then into main
    assert graph.merges_bringing(shas["nested"]) == sorted([shas["merge"],
                                                            shas["nested_merge"]])
    assert graph.merges_bringing(shas["other"]) == [shas["other_merge"]]
    assert graph.merges_bringing(shas["mainline"]) == []  # on the mainline: nothing merged it
    assert graph.with_merges(shas["retry"][:10])[0] == shas["retry"]  # a prefix resolves
    assert graph.with_merges("20240104-090000") == ["20240104-090000"]  # not a commit


def test_source_commit_and_its_merges_are_not_the_answer(
        merged: tuple[apsw.Connection, dict[str, str]], tmp_path: Path) -> None:
    """A query written from a commit (another tool's query set names it `source_commit`)
    must not be answered by that commit, nor by the merge that repeats its subject."""
    conn, shas = merged
    subject = "Retry failed uploads with exponential backoff"
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"queries": [
        {"id": "a", "query": subject, "relevant_docs": ["docs/uploads.cfg"]},
        {"id": "b", "query": subject, "relevant_docs": ["docs/uploads.cfg"],
         "source_commit": shas["retry"]},
        {"id": "c", "query": subject, "relevant_docs": ["docs/uploads.cfg"],
         "exclude_sources": [shas["retry"][:12]]}]}))
    a, b, c = load_queryset(path)
    searcher = Searcher(conn)
    [open_book] = evaluate(searcher, [a], ("lexical",))
    assert open_book.mrr == 1.0  # the commit itself answers its own subject
    for query in (b, c):
        [held_out] = evaluate(searcher, [query], ("lexical",))
        assert held_out.mrr == 0.0 and held_out.recall_at_10 == 0.0


def test_generated_queries_name_their_commit_and_its_merges(
        merged: tuple[apsw.Connection, dict[str, str]]) -> None:
    conn, shas = merged
    queries = {q["query"]: q for q in generate(conn, 10)["queries"]}
    entry = queries["Retry failed uploads with exponential backoff"]
    assert entry["source_commit"] == shas["retry"]
    assert entry["exclude_sources"] == [shas["retry"], shas["merge"]]
    assert not any(q.startswith("Merge ") for q in queries)


def test_paired_bootstrap_interval() -> None:
    # the same scores always give the same interval (a fixed seed)
    a, b = [0.0, 1.0, 0.5, 0.0, 1.0] * 8, [1.0, 1.0, 0.5, 0.5, 0.0] * 8
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b)
    mean, low, high = paired_bootstrap(a, b)
    assert mean == pytest.approx(0.1) and low < mean < high
    # one better query in 40 and the rest tied: an interval that reaches 0
    mean, low, high = paired_bootstrap([0.0] * 40, [1.0] + [0.0] * 39)
    assert low == 0.0 < mean < high
    # better on every query: an interval above 0
    assert paired_bootstrap([0.2] * 30, [0.7] * 30) == pytest.approx((0.5, 0.5, 0.5))


def test_hybrid_is_compared_with_each_single_mode() -> None:
    def mode(name: str, rrs: list[float]) -> ModeScore:
        return ModeScore(name, len(rrs), sum(rrs) / len(rrs), 0, 0, 0, 0, tuple(rrs))

    scores = [mode("hybrid", [1, 1, 0.5, 1] * 10), mode("lexical", [0.5, 1, 0.5, 0] * 10),
              mode("semantic", [1, 1, 0.5, 1] * 10)]
    lexical, semantic = comparisons(scores)
    assert (lexical.a, lexical.b, lexical.better, lexical.worse) == ("lexical", "hybrid", 20, 0)
    assert lexical.difference == pytest.approx(0.375) and lexical.excludes_zero()
    assert semantic.difference == 0 and not semantic.excludes_zero()
    assert comparisons([mode("lexical", [1.0])]) == []


def test_semble_benchmark_scoring_rule() -> None:
    """bench/semble scores answers with semble's rule: relevant and secondary targets
    count alike, a span target needs an overlapping chunk, a commit covers nothing under
    the chunk rule and stands for its files under the file rule."""
    from bench.semble.scoring import Hit, Target, ndcg, score

    a, b, c = Target("src/a.py"), Target("src/b.py", 10, 20), Target("src/c.py")
    hits = [Hit("commit", ("src/a.py", "src/x.py")), Hit("code", ("pkg/src/a.py",), 5, 8),
            Hit("code", ("src/b.py",), 25, 30), Hit("code", ("src/b.py",), 15, 40),
            Hit("code", ("src/a.py",), 1, 3)]
    scored = score(hits, [a, b, c])
    assert scored.ranks == (2, 4, None) and scored.file_ranks == (1, 4, None)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert scored.ndcg10 == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert scored.file_ndcg10 == pytest.approx((1 + 1 / math.log2(5)) / ideal)
    assert scored.recall10 == pytest.approx(2 / 3)
    # one chunk covering two targets counts once; the ideal still counts both
    both = score([Hit("code", ("a.py",), 1, 10)], [Target("a.py", 1, 5), Target("a.py", 3, 8)])
    assert both.ndcg10 == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg([None], 1) == 0.0 and ndcg([11], 1) == 0.0


def test_a_file_renamed_after_the_source_commit_counts_under_its_new_name(
        tmp_path: Path) -> None:
    """The search shows files as they are named now; a query written from a commit names
    them as they were then. The rename after it is followed, and only after it."""
    r = RepoBuilder(tmp_path / "repo")
    body = "def split_on_tabs(line):\n    return line.split('\\t')\n" * 3
    r.commit("Initial layout", "2024-01-01T10:00:00+00:00", {"README.md": "app\n"})
    source = r.commit("Split records on tabs", "2024-01-02T10:00:00+00:00",
                      {"src/tabs.py": body})
    r.commit("Move the tab splitter into the parser package", "2024-01-03T10:00:00+00:00",
             {"src/parser/tabs.py": body}, delete=("src/tabs.py",))
    r.commit("Move it again", "2024-01-04T10:00:00+00:00",
             {"src/parser/fields.py": body}, delete=("src/parser/tabs.py",))
    db = tmp_path / "k.db"
    update(GitRepo.discover(r.path), db, embed=False)
    conn = apsw.Connection(str(db))
    written = Query("q", "split on tabs", ("src/tabs.py",), source_commit=source)
    hiding = Query("h", "split on tabs", ("src/tabs.py",), exclude_sources=(source[:12],))
    unanchored = Query("u", "split on tabs", ("src/tabs.py",))
    moved = {"src/parser/fields.py": "src/tabs.py"}  # both moves, in order
    assert later_names(conn, [written, hiding, unanchored]) == [moved, moved, {}]
    [found] = evaluate(Searcher(conn), [written], ("lexical",))
    assert found.mrr == 1.0 and found.recall_at_10 == 1.0  # one file, counted once
    assert score_results([["b.py"], ["new.py"]], ("old.py", "x.py"), {"new.py": "old.py"}
                         ) == (0.5, 0.5, 0.5)
