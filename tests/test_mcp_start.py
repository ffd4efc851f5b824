"""A fresh `kenning mcp` over real stdio: its first hybrid answer (vectors and query
encoder loaded in the background at start) is the answer the Python handle gives, byte
for byte; and the vector matrix it searches holds every stored vector in event_id order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mcp import ClientSession

import kenning
from kenning.eventlog import database
from kenning.mcp import budget
from kenning.mcp.server import _answer
from kenning.scry.filters import KINDS
from kenning.scry.matrix import load_matrix
from tests.test_mcp import build_repo, talk

QUERY = "why do we split tokens on tabs"


def test_the_first_answer_is_the_handles_answer_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    build_repo(path)
    with kenning.open(path) as k:
        k.scrape()  # with vectors: the real model, on a few texts
        k.fill_vectors(background=False)  # else the first question makes its re-ranking
        # vectors and says so, unless an earlier test happened to leave them in the cache
        payload = {"query": QUERY, **_answer(k.scry(QUERY))}
    assert payload.pop("notes") == []  # the server leaves out empty notes
    expected = budget.render(budget.fit(payload, budget.DEFAULT_MAX_CHARS))
    assert '"mode": "hybrid"' in expected
    answers: list[str] = []

    async def scenario(s: ClientSession) -> None:  # initialize answered, then this
        result = await s.call_tool("scry", {"query": QUERY})
        assert not result.is_error
        answers.append(result.content[0].text)  # type: ignore[union-attr]
    talk(path, scenario)
    assert answers == [expected]


def test_the_vector_matrix_holds_every_vector_in_event_id_order(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    build_repo(path)
    with kenning.open(path) as k:
        k.scrape()
        db = k.db_path
    conn = database.connect(db, write=False)
    rows = conn.execute("SELECT d.doc_id, e.vector, d.kind FROM embeddings e JOIN documents d "
                        "USING (event_id) ORDER BY e.event_id").fetchall()
    m = load_matrix(conn)
    assert len(rows) > 5
    assert m.doc_ids.tolist() == [r[0] for r in rows]
    assert m.kinds.tolist() == [KINDS.index(r[2]) for r in rows]
    for row, (_, vector, _) in zip(m.vectors, rows, strict=True):
        assert row.tobytes() == vector
    assert np.allclose(np.linalg.norm(m.vectors, axis=1), 1.0, atol=1e-5)
