"""The embedding backends and the vector cache, on the real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kenning.embed.cache import VectorCache, default_cache_path, text_hash
from kenning.embed.encode import EmbedStats, SentenceTransformerEncoder, embed_texts
from kenning.embed.model import DIMENSIONS, MODEL_ID
from kenning.embed.numpy_encoder import NumpyEncoder

TEXTS = [
    "why did we move off separate databases",
    "def spawn_entity(world: World, kind: str) -> Entity:\n    \"\"\"Create an entity.\"\"\"",
    "Décision : garder SQLite — 数据库 in one file 🚀",
    "x",
    " ".join(f"token{i} is part of a very long commit message" for i in range(120)),  # > 256
]


@pytest.fixture(scope="module")
def st_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


def test_numpy_encoder_matches_sentence_transformers(st_encoder: SentenceTransformerEncoder
                                                     ) -> None:
    ours = NumpyEncoder().encode(TEXTS)
    theirs = st_encoder.encode(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), DIMENSIONS)
    assert ours.dtype == np.float32
    cosines = (ours * theirs).sum(axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    assert cosines.min() >= 0.9999, cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_numpy_encoder_batches_like_single_texts() -> None:
    encoder = NumpyEncoder()
    together = encoder.encode(TEXTS[:3])
    alone = np.stack([encoder.encode([t])[0] for t in TEXTS[:3]])
    assert np.allclose(together, alone, atol=1e-5)  # padding never leaks into a vector


def test_cache_lives_under_xdg_cache_home(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path().is_relative_to(tmp_path / "xdg")


class CountingEncoder:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.seen.extend(texts)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, len(text) % DIMENSIONS] = 1.0
        return out


def test_embed_texts_embeds_each_text_once_ever(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "c.sqlite")
    encoder = CountingEncoder()
    texts = ["alpha", "beta", "alpha", "gamma gamma"]
    vectors, hashes, stats = embed_texts(texts, cache=cache, encoder_factory=lambda: encoder)
    assert (stats.embedded, stats.cached) == (3, 1)  # the duplicate is not embedded twice
    assert sorted(encoder.seen) == ["alpha", "beta", "gamma gamma"]
    assert hashes == [text_hash(t) for t in texts]
    assert np.array_equal(vectors[0], vectors[2])
    again, _, stats2 = embed_texts(texts + ["delta"], cache=VectorCache(tmp_path / "c.sqlite"),
                                   encoder_factory=lambda: encoder)
    assert (stats2.embedded, stats2.cached) == (1, 4)
    assert encoder.seen[-1] == "delta"
    assert np.array_equal(again[:4], vectors)


def test_embed_texts_sorts_by_length_and_commits_each_chunk(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    texts = [f"text number {'x' * (i * 7 % 50)} {i}" for i in range(50)]

    class Interrupting(CountingEncoder):
        def encode(self, texts: list[str]) -> np.ndarray:
            if self.calls == 2:
                raise KeyboardInterrupt
            return super().encode(texts)

    encoder = Interrupting()
    with pytest.raises(KeyboardInterrupt):
        embed_texts(texts, cache=VectorCache(path), encoder_factory=lambda: encoder,
                    chunk_size=10)
    assert [len(t) for t in encoder.seen] == sorted(len(t) for t in encoder.seen)
    assert VectorCache(path).count(MODEL_ID) == 20  # two finished chunks survive Ctrl-C
    resumed = CountingEncoder()
    _, _, stats = embed_texts(texts, cache=VectorCache(path), encoder_factory=lambda: resumed)
    assert (stats.embedded, stats.cached) == (30, 20)


def test_embed_texts_with_nothing_missing_never_builds_the_encoder(tmp_path: Path) -> None:
    def explode() -> CountingEncoder:
        raise AssertionError("the encoder must not be built")

    _, _, stats = embed_texts([], cache=VectorCache(tmp_path / "c.sqlite"),
                              encoder_factory=explode)
    assert stats == EmbedStats(0, 0, stats.seconds)
