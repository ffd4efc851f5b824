"""The embedding models and the vector cache, on the real MiniLM weights.

sentence-transformers (the `reference` extra) is the reference: kenning's own
encoders must give its vectors, so that the vector cache stays valid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kenning.embed.cache import VectorCache, default_cache_path, text_hash
from kenning.embed.encode import WINDOW_CHARS, EmbedStats, embed_texts
from kenning.embed.model import DIMENSIONS, MODEL_ID, model_path, token_ids
from kenning.embed.models import DEFAULT_MODEL
from kenning.embed.numpy_encoder import NumpyEncoder, read_safetensors
from kenning.embed.onnx_encoder import OnnxEncoder, onnx_model_file
from kenning.embed.onnx_graph import build_model_bytes
from kenning.embed.reference import SentenceTransformerEncoder

_LONG_CODE = "\n".join(f"    total_{i} = compute(values[{i}], weight={i * 0.5}) + offset"
                       for i in range(60))
TEXTS = [
    "why did we move off separate databases",
    "def spawn_entity(world: World, kind: str) -> Entity:\n    \"\"\"Create an entity.\"\"\"",
    "Décision : garder SQLite — 数据库 in one file 🚀",
    "x",
    " ".join(f"token{i} is part of a very long commit message" for i in range(120)),  # > 256
    "fix(cli): exit 2 on a bad --until date\n\nThe parser raised ValueError; say which "
    "format is expected instead.",
    "Merge pull request #5123 from pallets/stable",
    f"def summarise(values, offset=0):\n    \"\"\"Add the weighted values.\"\"\"\n{_LONG_CODE}",
    "class Flask(App):\n    \"\"\"The flask object implements a WSGI application.\"\"\"",
    "    leading and trailing whitespace   \n\n",
    "ÀÉÎÕÜ ñ ß ø œ — accented capitals and ligatures",
    "日本語のテキストも埋め込める",
    "Привет, мир! Кириллица тоже.",
    "🙂🙃😉 emoji only 🎉",
    "SELECT d.doc_id, e.vector FROM embeddings e JOIN documents d USING (event_id)",
    "https://example.com/path?query=1&other=two#fragment",
    "a" * 3000,  # one unbroken word far past the window
    "TODO: remove the cache once the upstream fix lands (see #42)",
    "Bump version to 3.1.2",
    "fn main() { println!(\"hello\"); }",
    "@app.route('/')\ndef index():\n    return render_template('index.html')",
    "The session started at 09:14 UTC; decision: keep the eventlog canonical.",
    "numbers 1 2 3 4 5 6 7 8 9 10 3.14159 2.71828 -42 1e-9",
    "\t".join(["tabs", "between", "words"]),
    "Refactor: split scrapers/engine.py into units and fingerprints " * 12,  # ~150 tokens
    "short",
    "interface Props { title: string; onClick?: () => void }",
    "# Heading\n\n- item one\n- item two\n\n**bold** and `code`",
    "CamelCaseIdentifiersAreSplitIntoWordPieces andSoAreTheseOnes",
    "Ünïcödé ☃ snowman ∑ sum ≠ not equal ∞",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1)
                                             * np.linalg.norm(b, axis=1)))


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return SentenceTransformerEncoder().encode(TEXTS)


def test_onnx_encoder_gives_sentence_transformers_vectors(reference: np.ndarray) -> None:
    assert len(token_ids(TEXTS[4:5], 256)[0]) == 256  # truncated
    ours = OnnxEncoder(batch_size=4).encode(TEXTS)  # batches of equal token counts
    assert ours.shape == (len(TEXTS), DIMENSIONS) and ours.dtype == np.float32
    assert cosines(ours, reference).min() >= 0.9999, cosines(ours, reference)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_token_ids_cut_as_the_tokenizer_file_set_up_by_sentence_transformers_would() -> None:
    """Every encoder shares one tokenizer with no settings and cuts the ids itself; the
    vectors (and so the vector cache) stay valid only if the ids are the same."""
    from tokenizers import Tokenizer

    texts = [*TEXTS, "", "word " * 253, "word " * 254, "word " * 255, "déjà vu " * 300]
    for limit, marks in ((256, True), (128, True), (512, False)):
        configured = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        configured.enable_truncation(limit)
        configured.no_padding()
        expected = [e.ids for e in configured.encode_batch(texts, add_special_tokens=marks)]
        assert token_ids(texts, limit, marks=marks) == expected, (limit, marks)


def test_onnx_encoder_gives_a_text_the_same_bytes_alone_or_in_any_batch() -> None:
    # the re-ranker caches vectors computed at query time beside those of a bulk run:
    # their bytes must not depend on the texts they were encoded with
    texts = [*TEXTS, *(f"fix issue {i} in the parser" for i in range(9)), "", "a b"]
    encoder = OnnxEncoder(batch_size=4)
    lengths = [len(ids) for ids in token_ids(texts, 256)]
    assert max(lengths.count(n) for n in lengths) > 4  # a token count spans batches
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert np.array_equal(together, alone)
    assert np.array_equal(OnnxEncoder(batch_size=64, workers=1).encode(texts[::-1]),
                          together[::-1])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_onnx_encoder_batches_hold_a_bounded_number_of_tokens() -> None:
    """32 texts of 256 tokens in one batch kept ~0.9 GB of attention buffers alive for
    a whole fill: long texts run a few at a time, short ones 32 at a time, and the
    vectors are the bytes they would be alone."""
    from kenning.embed.onnx_encoder import TOKENS_PER_BATCH

    texts = [f"word{i} " * 300 for i in range(12)] + [f"fix {i}" for i in range(40)]
    encoder = OnnxEncoder(workers=1)
    shapes: list[tuple[int, int]] = []
    run = encoder.session.run

    def watched(names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        shapes.append(feeds["input_ids"].shape)
        return run(names, feeds)

    encoder.session.run = watched  # type: ignore[method-assign]
    together = encoder.encode(texts)
    assert max(rows * length for rows, length in shapes) <= TOKENS_PER_BATCH
    assert (TOKENS_PER_BATCH // 256, 256) in shapes and (32, 4) in shapes
    alone = OnnxEncoder(workers=1)
    assert np.array_equal(together, np.stack([alone.encode([t])[0] for t in texts]))


def test_numpy_encoder_gives_sentence_transformers_vectors(reference: np.ndarray) -> None:
    ours = NumpyEncoder().encode(TEXTS[:8])  # the query encoder: a few texts are enough
    assert ours.shape == (8, DIMENSIONS) and ours.dtype == np.float32
    assert cosines(ours, reference[:8]).min() >= 0.9999, cosines(ours, reference[:8])
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_numpy_encoder_batches_like_single_texts() -> None:
    encoder = NumpyEncoder()
    together = encoder.encode(TEXTS[:3])
    alone = np.stack([encoder.encode([t])[0] for t in TEXTS[:3]])
    assert np.allclose(together, alone, atol=1e-5)  # padding never leaks into a vector


def test_the_onnx_model_is_built_once_into_the_user_cache_with_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KENNING_MODELS_DIR")  # what a user without it gets
    built = onnx_model_file()
    assert built.is_relative_to(tmp_path / "xdg") and built.parent.name == "models"
    rebuilt = build_model_bytes(read_safetensors(model_path() / "model.safetensors"))
    assert built.read_bytes() == rebuilt  # deterministic: any machine, any run
    stamp = built.stat().st_mtime_ns
    assert onnx_model_file() == built and built.stat().st_mtime_ns == stamp  # not rebuilt
    left = sorted(p.name for p in built.parent.iterdir())
    assert [n for n in left if n.endswith(".onnx")] == [built.name]
    assert not [n for n in left if n.endswith(".part")]  # no temporary left


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


class RecordingProgress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def start(self, stage: str, total: int | None) -> None:
        self.calls.append(("start", (stage, total)))

    def advance(self, n: int = 1) -> None:
        self.calls.append(("advance", n))

    def finish(self) -> None:
        self.calls.append(("finish", None))

    def note(self, message: str) -> None:
        self.calls.append(("note", message))


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


def test_each_model_has_its_own_vectors_in_the_cache(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "c.sqlite")
    embed_texts(["alpha"], cache=cache, encoder_factory=CountingEncoder)
    other = CountingEncoder()
    _, _, stats = embed_texts(["alpha"], cache=cache, encoder_factory=lambda: other,
                              model_id="another-model")
    assert stats.embedded == 1 and other.seen == ["alpha"]


def test_progress_starts_once_with_the_texts_left_to_embed(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "c.sqlite")
    embed_texts(["known"], cache=cache, encoder_factory=CountingEncoder)
    progress = RecordingProgress()
    texts = ["known", *(f"text {i}" for i in range(25)), "text 3"]
    embed_texts(texts, cache=cache, encoder_factory=CountingEncoder, progress=progress,
                chunk_size=10)
    assert progress.calls[0] == ("start", ("vectors", 25))
    assert sorted(n for call, n in progress.calls if call == "advance") == [5, 10, 10]
    assert progress.calls[-1] == ("finish", None) and len(progress.calls) == 5


def test_work_done_keeps_pace_with_texts_done(tmp_path: Path) -> None:
    """The progress display's rate and time left come from texts done: the chunks must
    not run cheapest first (commit subjects) and leave the long code texts for the end."""
    texts = [f"{i} " + "word " * ((i % 97) ** 2 // 40) for i in range(400)]
    encoder = CountingEncoder()
    embed_texts(texts, cache=VectorCache(tmp_path / "c.sqlite"),
                encoder_factory=lambda: encoder, chunk_size=20)
    lengths = [min(len(t), WINDOW_CHARS) for t in encoder.seen]
    for done in range(40, 400, 20):  # after each chunk but the first
        work_share = sum(lengths[:done]) / sum(lengths)
        assert abs(work_share - done / 400) < 0.1, (done, work_share)


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
    for start in range(0, len(encoder.seen), 10):  # each chunk is a run of the sorted texts
        chunk = [len(t) for t in encoder.seen[start:start + 10]]
        assert chunk == sorted(chunk)
    assert VectorCache(path).count(MODEL_ID) == 20  # two finished chunks survive Ctrl-C
    resumed = CountingEncoder()
    _, _, stats = embed_texts(texts, cache=VectorCache(path), encoder_factory=lambda: resumed)
    assert (stats.embedded, stats.cached) == (30, 20)


def test_embed_texts_with_nothing_missing_never_builds_the_encoder(tmp_path: Path) -> None:
    def explode() -> CountingEncoder:
        raise AssertionError("the encoder must not be built")

    progress = RecordingProgress()
    _, _, stats = embed_texts([], cache=VectorCache(tmp_path / "c.sqlite"),
                              encoder_factory=explode, progress=progress)
    assert stats == EmbedStats(0, 0, stats.seconds)
    assert progress.calls == []  # no bar for nothing to do


def test_the_static_model_averages_its_token_rows(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.embed import static

    table = np.random.default_rng(7).standard_normal((30522, DIMENSIONS)).astype(np.float32)
    np.save(tmp_path / "table.npy", table)
    monkeypatch.setattr(static, "static_table_file", lambda cache_dir=None: tmp_path / "table.npy")
    encoder = static.StaticEncoder()
    ids = token_ids(["parse tabs"], 512, marks=False)[0]
    expected = table[ids].mean(axis=0)
    vectors = encoder.encode(["parse tabs", "tabs parse", "⟁⟁"])
    assert np.allclose(vectors[0], expected / np.linalg.norm(expected), atol=1e-6)
    assert np.allclose(vectors[0], vectors[1])  # a bag of tokens: order does not matter
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)  # even unknown text


def test_one_progress_bar_and_the_figures_for_the_whole_embedding_run(
        history_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.materialize import engine
    from kenning.repository.gitrepo import GitRepo
    from tests.conftest import update

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))  # so it must embed
    monkeypatch.setattr(engine, "_BATCH", 3)  # the engine feeds add() many small chunks
    repo = GitRepo.discover(history_repo)
    progress = RecordingProgress()
    (run,) = [r for r in update(repo, tmp_path / "a.db", progress=progress).materialized
              if r.name == "embeddings"]
    embedded = run.details["embedded"]
    stages = [c for c in progress.calls if c[0] == "start"]
    assert stages.count(("start", ("vectors", embedded))) == 1 and embedded > 10
    assert len([s for s in stages if s[1][0] == "vectors"]) == 1  # type: ignore[index]
    after = progress.calls[progress.calls.index(("start", ("vectors", embedded))) + 1:]
    advances = after[:after.index(("finish", None))]
    assert sum(int(str(n)) for _, n in advances) == embedded  # the bar ends at its total
    assert run.details["model"] == DEFAULT_MODEL
    rows = embedded + run.details["cached"]

    again = RecordingProgress()
    (second,) = [r for r in update(repo, tmp_path / "b.db", progress=again).materialized
                 if r.name == "embeddings"]
    assert (second.details["embedded"], second.details["cached"]) == (0, rows)
    assert not [c for c in again.calls if c[0] == "start" and c[1][0] == "vectors"]  # type: ignore[index]


HEAVY = {"torch", "sentence_transformers", "transformers"}


def imported(args: list[str], cwd: Path) -> set[str]:
    """Top-level modules a `kenning ARGS` process imported (from `-X importtime`)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "kenning", *args],
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(root)},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in proc.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_no_command_imports_torch_not_even_embedding(history_repo: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))  # so it must embed
    lexical = [["--help"], ["scrape", "--no-embed"], ["status"], ["digest"],
               ["scry", "greeting", "--mode", "lexical"]]
    for args in lexical:
        modules = imported(args, history_repo)
        assert "kenning" in modules and not modules & HEAVY, (args, modules & HEAVY)
        assert "onnxruntime" not in modules, args
        # typer 0.29 builds a pydantic adapter per option: +0.4 s a call at load 3 (0.28 pinned)
        assert not modules & {"pydantic", "mcp"}, (args, modules & {"pydantic", "mcp"})
    modules = imported(["materialize", "embeddings"], history_repo)  # the static model
    assert "numpy" in modules and not modules & HEAVY, modules & HEAVY
    recipe = history_repo / ".kenning" / "recipe.toml"
    recipe.write_text('[materialize.embeddings]\nmodel = "minilm"\n')
    modules = imported(["materialize", "embeddings"], history_repo)  # MiniLM: onnxruntime
    assert "onnxruntime" in modules and not modules & HEAVY, modules & HEAVY


def test_a_no_op_scrape_imports_no_numpy(history_repo: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """What `kenning scrape` costs after every pull when nothing changed: no model, no
    vectors, not even numpy (0.1-0.2 s of a 0.35 s run)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    imported(["scrape"], history_repo)  # the first scrape, vectors and matrix file included
    modules = imported(["scrape"], history_repo)
    assert "kenning" in modules and "numpy" not in modules
