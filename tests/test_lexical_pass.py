"""The lexical arm's unfiltered pass, cut inside the index, equals the joined pass.

Documents are drawn from a handful of words, so many share a BM25 score and the
cut between kept and dropped often falls inside a tie, which only the event id
settles. Each corpus is built twice, in opposite insertion orders (other doc_ids,
as an incremental build and a rebuild assign them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import apsw
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kenning.scry import lexical
from kenning.scry.filters import Filters
from tests import test_scry_corpus as scry_corpus

WORDS = ("cache", "store", "retry", "lock")
SIDES = {"code": ("code",), "history": ("commit", "session")}
KIND_TYPE = {"code": "code.function", "commit": "git.commit", "session": "session.decision"}


def corpus(drawn: list[tuple[str, list[str]]]) -> list[tuple[object, ...]]:
    docs = []
    for n, (kind, words) in enumerate(drawn):
        source = f"src/m{n}.py:1" if kind == "code" else f"{n:040d}"
        paths = [f"src/m{n}.py"] if kind == "code" else []
        docs.append((kind, KIND_TYPE[kind], "2024-01-01T00:00:00Z", source, None, paths,
                     "doc", " ".join(words)))
    return docs


def both_passes(db: Path, query: str, limit: int
                ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    conn = apsw.Connection(str(db))
    try:
        match = lexical.fts_query(query, conn)
        assert match is not None

        def events(found: dict[str, list[tuple[int, float]]]) -> dict[str, list[str]]:
            return {side: [conn.execute("SELECT event_id FROM documents WHERE doc_id = ?",
                                        (doc_id,)).fetchone()[0] for doc_id, _ in hits]
                    for side, hits in found.items()}

        fast = events(lexical.ranked_sides(conn, match, Filters(), SIDES, limit))
        joined = events(lexical._joined_sides(conn, match, Filters(), SIDES, limit))
        return fast, joined
    finally:
        conn.close()


@settings(max_examples=80, deadline=None)
@example(drawn=[("code", ["cache"]), ("commit", ["cache"])] * 6, query="cache", limit=2,
         depth=1)  # one tie across kinds, read in doc_id order, longer than the pass
@given(drawn=st.lists(st.tuples(st.sampled_from(["code", "commit", "session"]),
                                st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)),
                      min_size=1, max_size=60),
       query=st.sampled_from(WORDS), limit=st.integers(1, 4), depth=st.integers(1, 4))
def test_index_pass_equals_joined_pass_in_every_build(
        drawn: list[tuple[str, list[str]]], query: str, limit: int, depth: int) -> None:
    docs = corpus(drawn)
    # a shallow pass puts the cut among the few documents drawn
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(lexical, "PASS_DEPTH", depth):
        answers = [both_passes(scry_corpus.build(Path(tmp) / f"{reverse}.db", embed=False,
                                                 docs=docs, reverse=reverse), query, limit)
                   for reverse in (False, True)]
    (fast, joined), (fast_reversed, joined_reversed) = answers
    assert fast == joined
    assert fast_reversed == joined_reversed == fast
