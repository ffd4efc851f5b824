"""The retrieval metrics of `kenning eval`, on hand-checked rankings."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from kenning.errors import KenningError
from kenning.scry.evaluate import Query, evaluate, load_queryset, score_results
from kenning.scry.search import Searcher
from tests import test_scry_corpus as scry_corpus


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
