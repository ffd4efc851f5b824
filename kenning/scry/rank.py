"""Code-aware ranking of code documents into file slots (semble's ranking, our words).

Given each arm's ranked code candidates, one pass computes, per document and file:

1. weighted reciprocal-rank fusion: alpha x 1/(k + semantic rank) + (1 - alpha) x
   1/(k + lexical rank) (a lone arm weighs 1);
2. definition boost: a document whose `symbol` is the name a symbol-like query asks
   for gets + 3 x the best fused score (half that for an identifier inside a question
   in words), x 1.5 more when the file's stem is that name; the documents of a file whose
   stem is that name (a module, a script: `bench_code` -> bench_code.py) get the plain
   boost, since the name is the file's;
3. per file, through its best document: file coherence (+ 0.2 x best x the file's
   share of the largest file's summed scores: a file with several matching documents
   rises), path match (+ best x the share of the question's words that the file's stem
   or folder name carry, when at least 10%), history evidence (+ 0.25 x best x the
   file's share of the strongest file's evidence: commits and notes that match the
   question and name the file);
4. path penalties (tests, examples, benchmarks, fixtures, docs, compat/legacy,
   vendored, `__init__.py` barrels, `.d.ts`), multiplied, unless the question names
   that category;
5. slots: a file's best document is its slot; with `per_file` N its next documents
   follow at 0.5, 0.25, ... of their own score.

Every term is recorded as a step, so `--explain` can say why a slot is where it is.
Ties go by (path, event_id): content, never a local doc_id.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kenning.materialize.tokens import CAMEL
from kenning.scry.fusion import tied_ranks

DEFINITION_BOOST = 3.0
STEM_DEFINITION = 1.5  # the file is named after the symbol
COHERENCE = 0.2
PATH_MATCH_MIN = 0.10
EVIDENCE = 0.25
SATURATION = 0.5
SYMBOL_ALPHA = 0.3  # a symbol-like query leans on the lexical arm
DEFAULT_ALPHA = 0.5


# (category, factor, folder names, file-name pattern)
_TEST_NAME = re.compile(
    r"(^test_.*\.py$|_tests?\.(py|go|rs|c|cc|cpp|ex|exs)$|^tests?\.(py|rs)$|^conftest\.py$|"
    r"(Test|Tests|IT|Spec)\.(java|kt|scala|swift|cs|php|groovy)$|_spec\.rb$|_test\.rb$|"
    r"^test_.*\.rb$|\.(test|spec)\.(js|jsx|ts|tsx|mjs|cjs)$|_test\.(js|ts)$|Tests?\.swift$)")
_BENCH_NAME = re.compile(r"(^bench_|_bench\.|_benchmark|^benchmark_|\.bench\.)")
# prose: a README, a changelog, a guide (the code scraper indexes them as text chunks)
_DOCS_NAME = re.compile(r"(\.(md|markdown|rst|txt|adoc)$|^(README|CHANGES|CHANGELOG|HISTORY|"
                        r"NEWS|AUTHORS|CONTRIBUTING|LICENSE)$)", re.I)
PENALTIES: tuple[tuple[str, float, frozenset[str], re.Pattern[str] | None], ...] = (
    ("test", 0.3, frozenset({"test", "tests", "__tests__", "spec", "specs", "testing",
                             "test-utils", "testutils", "androidtest", "unittests"}), _TEST_NAME),
    ("example", 0.3, frozenset({"example", "examples", "_examples", "docs_src", "sample",
                                "samples", "demo", "demos"}), None),
    ("benchmark", 0.3, frozenset({"bench", "benches", "benchmark", "benchmarks"}), _BENCH_NAME),
    ("fixture", 0.3, frozenset({"fixture", "fixtures", "testdata", "test_data", "mocks"}), None),
    ("docs", 0.3, frozenset({"doc", "docs", "documentation"}), _DOCS_NAME),
    ("compat", 0.3, frozenset({"compat", "_compat", "legacy", "deprecated"}), None),
    ("vendored", 0.3, frozenset({"vendor", "vendored", "third_party", "third-party",
                                 "thirdparty", "node_modules", "single_include"}), None),
)
BARREL = 0.5  # __init__.py, package-info.java: re-exports
DECLARATIONS = 0.7  # .d.ts


@dataclass
class CodeDoc:
    doc_id: int
    event_id: str
    path: str
    start_line: int | None
    end_line: int | None
    symbol: str | None
    title: str
    arms: dict[str, tuple[int, float]] = field(default_factory=dict)  # arm: (rank, score)
    fused: float = 0.0
    definition: float = 0.0
    origin: str = "arms"  # arms, definition (found by its symbol), evidence (file head)
    named: str = ""  # why it has a definition boost: "defines 'x'", "its file is named 'x'"

    @property
    def own(self) -> float:
        return self.fused + self.definition


@dataclass
class Query:
    terms: list[str]  # the question's search words (stop words gone)
    symbols: list[str]  # names a definition may have
    symbol_query: bool  # the whole query is one identifier
    asked: frozenset[str]  # path categories the question names


@dataclass
class Slot:
    doc: CodeDoc
    score: float
    nth: int  # 1: the file's best document
    steps: list[str]
    others: list[CodeDoc]  # the file's other matching documents (best slot only)


def alpha_for(symbol_query: bool) -> float:
    return SYMBOL_ALPHA if symbol_query else DEFAULT_ALPHA


def arm_weights(arms: Iterable[str], alpha: float) -> dict[str, float]:
    """alpha for the semantic arm and 1 - alpha for the lexical one; a lone arm weighs 1."""
    names = list(arms)
    if len(names) > 1:
        return {"semantic": alpha, "lexical": 1 - alpha}
    return {arm: 1.0 for arm in names}


def fused_scores(arms: Mapping[str, Sequence[tuple[int, float]]], alpha: float, k: float
                 ) -> tuple[dict[int, float], dict[int, dict[str, tuple[int, float]]]]:
    """Weighted reciprocal-rank fusion of best-first (doc_id, score) lists: each
    document's fused score and its (rank, score) in each arm (equal scores share a
    rank). Each sum is exactly rounded, whatever the order of the arms."""
    weights = arm_weights(arms, alpha)
    parts: dict[int, list[float]] = {}
    seen: dict[int, dict[str, tuple[int, float]]] = {}
    for arm, ranked in arms.items():
        for doc_id, r, score in tied_ranks(ranked):
            parts.setdefault(doc_id, []).append(weights[arm] / (k + r))
            seen.setdefault(doc_id, {})[arm] = (r, score)
    return {d: math.fsum(p) for d, p in parts.items()}, seen


def fuse(docs: Mapping[int, CodeDoc], arms: Mapping[str, Sequence[tuple[int, float]]],
         alpha: float, k: float) -> None:
    """Set each document's `fused` score and `arms` ranks."""
    fused, seen = fused_scores(arms, alpha, k)
    for doc_id, score in fused.items():
        docs[doc_id].fused = score
        docs[doc_id].arms = seen[doc_id]


def identifier_parts(name: str) -> list[str]:
    """`method_routing` -> ["method", "routing"]; `HTTPServer` -> ["http", "server"]."""
    pieces = re.split(r"[_\-.\s]+", name)
    return [p.lower() for piece in pieces for p in CAMEL.findall(piece)]


def _norm_name(name: str) -> str:
    joined = "".join(identifier_parts(name))
    return joined[:-1] if joined.endswith("s") and len(joined) > 3 else joined


def stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] if not name.startswith(".") else name


def words_match(word: str, part: str) -> bool:
    """Equal, or one a prefix-variant of the other ("dependency" ~ "dependencies",
    "route" ~ "routing"): a common prefix of at least 4 characters that leaves at
    most 2 characters of the shorter word."""
    if word == part:
        return True
    if word[:4] != part[:4]:
        return False
    n = 0
    for a, b in zip(word, part, strict=False):
        if a != b:
            break
        n += 1
    return n >= max(4, min(len(word), len(part)) - 2)


def path_match(path: str, terms: Sequence[str]) -> tuple[float, list[str]]:
    """The share of `terms` that the file's stem or its folder's name carry."""
    if not terms:
        return 0.0, []
    pieces = _path_pieces(path)
    matched = [t for t in terms if t in pieces or any(words_match(t, p) for p in pieces)]
    return len(matched) / len(terms), matched


@functools.lru_cache(maxsize=4096)
def _path_pieces(path: str) -> frozenset[str]:
    """The words of a file's stem and of its folder's name."""
    parts = path.split("/")
    names = [stem(path)] + ([parts[-2]] if len(parts) > 1 else [])
    return frozenset(p for n in names for p in [n.lower(), *identifier_parts(n)] if p)


def penalty(path: str, asked: frozenset[str]) -> tuple[float, list[str]]:
    """The product of the path's penalties, and their names."""
    parts = path.split("/")
    folders = {p.lower() for p in parts[:-1]}
    name = parts[-1]
    factor, why = 1.0, []
    for category, f, dirs, pattern in PENALTIES:
        if category in asked:
            continue
        if folders & dirs or (pattern is not None and pattern.search(name)):
            factor *= f
            why.append(category)
    if name in ("__init__.py", "package-info.java"):
        factor *= BARREL
        why.append("barrel")
    if name.endswith(".d.ts"):
        factor *= DECLARATIONS
        why.append("declarations")
    return factor, why


def definition_boosts(docs: Mapping[int, CodeDoc], query: Query, best: float) -> None:
    """Documents that define a name the query asks for."""
    if not query.symbols:
        return
    names = set(query.symbols)
    normed = {_norm_name(n) for n in names}
    strength = DEFINITION_BOOST if query.symbol_query else DEFINITION_BOOST / 2
    for doc in docs.values():
        named_file = _norm_name(stem(doc.path)) in normed
        if doc.symbol in names or doc.title in names:
            doc.definition = strength * best
            doc.named = f"defines {doc.symbol or doc.title!r}"
            if named_file:
                doc.definition *= STEM_DEFINITION
        elif named_file:  # a module or script named by the question: the name is the file's
            doc.definition = strength * best
            doc.named = f"its file is named {stem(doc.path)!r}"


def rank(docs: Mapping[int, CodeDoc], query: Query, *, best: float,
         evidence: Mapping[str, float] | None = None,
         evidence_reasons: Mapping[str, str] | None = None,
         per_file: int = 1) -> list[Slot]:
    """File slots best first. `best` is the largest fused score (the unit of every
    boost); `evidence` maps a path to its summed history evidence."""
    evidence = evidence or {}
    evidence_reasons = evidence_reasons or {}
    files: dict[str, list[CodeDoc]] = {}
    for doc in docs.values():
        files.setdefault(doc.path, []).append(doc)
    for members in files.values():
        members.sort(key=lambda d: (-d.own, d.start_line or 0, d.event_id))
    sums = {p: math.fsum(d.fused for d in m) for p, m in files.items()}
    top_sum = max(sums.values(), default=0.0)
    top_evidence = max(evidence.values(), default=0.0)
    nl_terms = [] if query.symbol_query else [t for t in query.terms if len(t) > 2]
    slots: list[Slot] = []
    for path, members in files.items():
        first = members[0]
        steps = _arm_steps(first)
        extra = 0.0
        if first.definition:
            steps.append(f"+{first.definition:.4g} {first.named}")
        if top_sum > 0 and len(members) > 1 and sums[path] > 0:
            coherence = COHERENCE * best * sums[path] / top_sum
            extra += coherence
            steps.append(f"+{coherence:.4g} file coherence ({len(members)} matching "
                         "documents in the file)")
        share, matched = path_match(path, nl_terms)
        path_boost = best * share if share >= PATH_MATCH_MIN else 0.0
        if path_boost:
            extra += path_boost
            steps.append(f"+{path_boost:.4g} path matches {', '.join(matched)} "
                         f"({len(matched)}/{len(nl_terms)} words)")
        if top_evidence > 0 and evidence.get(path, 0) > 0:
            raised = EVIDENCE * best * evidence[path] / top_evidence
            extra += raised
            steps.append(f"+{raised:.4g} history evidence: {evidence_reasons.get(path, '')}"
                         .rstrip(": "))
        factor, why = penalty(path, query.asked)
        if why:
            steps.append(f"x{factor:.3g} {' + '.join(why)} path, after source")
        slots.append(Slot(first, (first.own + extra) * factor, 1, steps, members[1:]))
        for nth, doc in enumerate(members[1:per_file], 2):
            own_steps = _arm_steps(doc)
            if doc.definition:
                own_steps.append(f"+{doc.definition:.4g} {doc.named}")
            cut = SATURATION ** (nth - 1)
            own_steps.append(f"x{cut:.3g} span {nth} of {path}")
            if why:
                own_steps.append(f"x{factor:.3g} {' + '.join(why)} path, after source")
            slots.append(Slot(doc, (doc.own + path_boost) * factor * cut, nth, own_steps, []))
    slots.sort(key=lambda s: (-s.score, s.doc.path, s.nth, s.doc.event_id))
    return slots


def _arm_steps(doc: CodeDoc) -> list[str]:
    steps = [f"{arm} #{rank} ({score:.3g})" for arm, (rank, score) in sorted(doc.arms.items())]
    if doc.origin == "definition":
        steps.append("found by its name (a definition the arms missed)")
    elif doc.origin == "evidence":
        steps.append("named by the history that matches")
    if doc.fused:
        steps.append(f"fused {doc.fused:.4g}")
    return steps
