"""`kenning.open()`: one repository's knowledge as a Python object.

The CLI, the MCP server and Python callers all go through a `Kenning`: it finds
the repository, the database and the recipe in one place, keeps one read
connection (and, once semantic search ran, the vectors and the query encoder)
warm, and closes what it opened. Writing (scrape, materialize, project) opens
the database for writing for the length of that call only.

    >>> import kenning
    >>> with kenning.open("path/to/repo") as k:          # doctest: +SKIP
    ...     k.scrape()
    ...     for hit in k.scry("retry backoff", limit=5).results:
    ...         print(hit.kind, hit.source, hit.title)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import apsw

from kenning.errors import KenningError
from kenning.progress import Progress
from kenning.recipes import Recipe, load_recipe, load_scry_params
from kenning.repository.gitrepo import GitRepo

if TYPE_CHECKING:  # each loads only when its method runs
    from kenning.api.asof import AsOf
    from kenning.api.init import InitReport
    from kenning.api.status import Status
    from kenning.api.verify import VerifyResult
    from kenning.eventlog.digest import Digest
    from kenning.eventlog.reader import StoredEvent
    from kenning.eventlog.state import ScrapeState
    from kenning.materialize.digest import CheckReport, TableDigest
    from kenning.materialize.engine import Freshness, RunResult
    from kenning.materialize.projections import Step
    from kenning.scrapers.engine import ScrapeResult
    from kenning.scry.code_lookup import Call, Definition
    from kenning.scry.evaluate import ModeScore, Query
    from kenning.scry.file_report import FileReport
    from kenning.scry.history import Recent, Shown
    from kenning.scry.search import Answer, Searcher

DEFAULT_DB = Path(".kenning") / "kenning.db"


def open(repo: str | Path = ".", db: str | Path | None = None, *,  # noqa: A001
         until: str | None = None) -> Kenning:
    """The knowledge of the repository that holds `repo` (any directory inside it).

    `db` defaults to `.kenning/kenning.db` at the repository root; with `until` (a date,
    ISO time or revision) to a database of that moment of its own under
    `.kenning/past/`, so the main database is never rewound. A `db` outside any
    repository can still be read (status, scry, digest, export), not scraped."""
    try:
        git: GitRepo | None = GitRepo.discover(Path(repo))
    except KenningError:
        if db is None:
            raise
        git = None
    if db is not None:
        path = Path(db)
    else:
        assert git is not None
        path = git.root / DEFAULT_DB
        if until is not None:
            path = _past_database(git, until)
    return Kenning(git, path, until=until)


def open_as_of(repo: str | Path, db: str | Path | None, until: str | None
               ) -> tuple[Kenning, bool]:
    """For reading at `until`: the database built for that moment when there is one
    (True), else the usual one, whose answers the caller filters by time (False)."""
    if until is not None and db is None:
        past = open(repo, until=until)
        if past.db_path.is_file():
            return past, True
    return open(repo, db), until is None


def _past_database(git: GitRepo, until: str) -> Path:
    from kenning.api.asof import past_database
    from kenning.repository.timespec import resolve_until

    head = git.head()
    if head is None:
        raise KenningError("the repository has no commits yet; there is no past to read")
    at = resolve_until(git, head, until)
    return past_database(git.root, at.target, at.cutoff)


@dataclass
class ScrapeReport:
    """What `Kenning.scrape` did: the eventlog's change, then each materializer's run."""

    scrape: ScrapeResult
    materialized: list[RunResult] = field(default_factory=list)


@dataclass(frozen=True)
class DigestReport:
    digest: Digest
    tables: list[TableDigest]  # empty unless asked for
    reproducible: bool
    complete: bool = True  # False: this clone lacks blobs the log needs (a partial clone)


@dataclass(frozen=True)
class VectorFill:
    """`Kenning.fill_vectors`: the re-ranking vectors missing (or made, in the
    foreground), and the background process making them (None: none started)."""
    vectors: int
    pid: int | None


class Kenning:
    """A repository, its database and its recipe. Use as a context manager, or close()."""

    def __init__(self, repo: GitRepo | None, db_path: Path, recipe: Recipe | None = None,
                 *, until: str | None = None) -> None:
        self.repo = repo
        self.db_path = db_path
        self.until = until  # the moment this handle scrapes to (None: HEAD)
        self._recipe = recipe
        self._conn: apsw.Connection | None = None
        self._searcher: Searcher | None = None

    # -- lifetime -------------------------------------------------------------------

    def __enter__(self) -> Kenning:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._conn is not None:
            self._conn.close()
        self._conn, self._searcher = None, None

    @property
    def recipe(self) -> Recipe:
        """The effective recipe, read on first use (an invalid one stops only what needs it:
        digest and export do not)."""
        if self._recipe is None:
            self._recipe = load_recipe(self.root)
        return self._recipe

    @property
    def root(self) -> Path | None:
        return self.repo.root if self.repo else None

    def _git(self, action: str) -> GitRepo:
        if self.repo is None:
            raise KenningError(f"{action} needs the git repository; run it inside a clone "
                               "(or pass --repo)")
        return self.repo

    def _read(self) -> apsw.Connection:
        """The read connection, opened on first use and kept."""
        if self._conn is None:
            from kenning.eventlog import database

            self._conn = database.connect(self.db_path, write=False)
        return self._conn

    # -- writing -------------------------------------------------------------------

    def scrape(self, *, until: str | None = None, full: bool = False,
               scrapers: Sequence[str] = (), session_paths: Sequence[str] = (),
               worktree: bool = False, materialize: bool = True, embed: bool = True,
               workers: int | None = None, progress: Progress | None = None) -> ScrapeReport:
        """Bring the eventlog to HEAD (or to `until`: a date, ISO time or revision), then
        every enabled materializer (`embed=False` leaves the embeddings stale)."""
        from kenning.materialize.registry import MATERIALIZERS
        from kenning.scrapers.engine import scrape

        repo = self._git("scraping")
        self._ignore_local_files()
        options = self.recipe.scrape_options(session_paths=tuple(session_paths) or None,
                                             worktree=worktree)
        if workers is not None:  # how, not what: the eventlog does not depend on it
            options = replace(options, workers=workers)
        report = ScrapeReport(scrape(repo, self.db_path, scrapers=scrapers,
                                     until=until if until is not None else self.until,
                                     full=full, options=options, progress=progress))
        if materialize:
            enabled = [n for n in MATERIALIZERS if self.recipe.materializer(n)[0]]
            # the search index and every other table committed first, so that lexical
            # answers come while the vectors are made (minutes with minilm on a first
            # scrape), and survive an interrupted embedding run
            first = [n for n in enabled if n != "embeddings"]
            then = ["embeddings"] if embed and "embeddings" in enabled else []
            report.materialized = self._materialize_in_turn([first, then], progress)
        return report

    def _materialize_in_turn(self, steps: Sequence[Sequence[str]],
                             progress: Progress | None) -> list[RunResult]:
        """Each non-empty step its own materialize run (its own transaction)."""
        from kenning.materialize.engine import materialize

        results: list[RunResult] = []
        for n, names in enumerate(steps):
            if not names:
                continue
            if n and progress is not None and any(
                    r.name == "fts" and r.action == "rebuilt" for r in results):
                # a new index: most likely a first scrape, whose vectors take longest
                progress.note("the search index is ready: `kenning scry` answers by words "
                              "while the vectors are made")
            results += materialize(self.db_path, self.recipe, names, progress=progress)
        self._refresh_matrix_file(results)
        return results

    def _refresh_matrix_file(self, results: Sequence[RunResult]) -> None:
        changed = {r.name for r in results if r.action != "fresh"}
        if not changed:
            return  # a no-op run: not even numpy is imported
        from kenning.scry import matrix

        if changed & set(matrix.SOURCES):
            matrix.refresh_file(self.db_path)  # so the next query maps the vectors at once

    def _ignore_local_files(self) -> None:
        """A new database in the repository's .kenning/ (the default place) comes with
        the .gitignore that keeps it out of `git status` (unless the user has one)."""
        from kenning.api.init import KENNING_DIR, ignore_local_files

        folder = self._git("scraping").root / KENNING_DIR
        if not self.db_path.exists() and self.db_path.resolve().is_relative_to(
                folder.resolve()):
            ignore_local_files(folder)

    def init(self, *, hooks: bool = False, uninstall_hooks: bool = False,
             python: str | None = None) -> InitReport:
        """Set the repository up: .kenning/ with its .gitignore and a recipe showing the
        defaults; with `hooks`, git hooks that scrape in the background after every
        merge, checkout and rewrite (run by `python`, default this interpreter).
        `uninstall_hooks` removes those hooks again, keeping the user's own."""
        from kenning.api.init import init

        return init(self._git("kenning init").root, hooks_wanted=hooks,
                    uninstall_hooks=uninstall_hooks, python=python)

    def materialize(self, names: Sequence[str] = (), *, rebuild: bool = False,
                    progress: Progress | None = None) -> list[RunResult]:
        """Catch up (or rebuild) the selected materializers, default every enabled one."""
        from kenning.materialize.engine import materialize

        results = materialize(self.db_path, self.recipe, names, rebuild=rebuild,
                              progress=progress)
        self._refresh_matrix_file(results)
        return results

    def fill_vectors(self, *, background: bool = True) -> VectorFill | None:
        """Make a `static-rerank` database's re-ranking vectors (MiniLM's, of every
        document) ahead of the questions, which otherwise make their candidates' as they
        ask (kenning/embed/fill.py): in a detached low-priority process (`background`;
        none when $KENNING_NO_BACKGROUND is set), or here. None when none are missing."""
        from kenning.embed import fill

        model = fill.reranker(self._read()) if self.db_path.exists() else None
        missing = len(fill.missing(self._read(), model)) if model else 0
        if not missing:
            return None
        if not background:
            return VectorFill(fill.fill(self.db_path), None)
        return VectorFill(missing, fill.start(self.db_path))

    def project(self, name: str, step: Step, seed: Any, *, types: Sequence[str] = (),
                version: int = 1) -> Any:
        """Fold the eventlog with your own pure `step(state, event) -> state` from `seed`,
        keeping the state (JSON) in the database: the next call folds only the events
        added since. `types` are event type prefixes (default: every event); change
        `version` when `step` changes meaning."""
        from kenning.eventlog import database
        from kenning.materialize.projections import Fold, project

        fold = Fold(name, step, seed, types, version)
        conn = database.connect(self.db_path, write=True)
        try:
            with database.write_transaction(conn, self.db_path):
                state, _ = project(conn, fold)
        finally:
            conn.close()
        return state

    def drop_projection(self, name: str) -> bool:
        from kenning.eventlog import database
        from kenning.materialize.projections import drop

        conn = database.connect(self.db_path, write=True)
        try:
            with database.write_transaction(conn, self.db_path):
                return drop(conn, name)
        finally:
            conn.close()

    # -- the state of the database ------------------------------------------------------

    def as_of(self) -> AsOf:
        """The moment the database answers for, and how far HEAD has moved since."""
        from kenning.api.asof import as_of
        from kenning.eventlog import state

        scraped = state.read(self._read())
        return as_of(self.repo, scraped.target, scraped.cutoff)

    def status(self) -> Status:
        from kenning.api.status import status

        return status(self.repo, self.db_path, self.recipe)

    def scrape_state(self) -> ScrapeState:
        """What the eventlog stands at (the scraped commit, an `--until` cutoff); cheap,
        read from the open connection. An empty state when there is no database yet."""
        from kenning.eventlog import state

        if self._conn is None and not self.db_path.exists():
            return state.ScrapeState()
        return state.read(self._read())

    def freshness(self) -> list[Freshness]:
        """Each materializer as fresh, stale (why, and whether it must be rebuilt) or
        disabled: the part of `status()` that says what a `materialize` would do."""
        from kenning.materialize.engine import freshness

        return freshness(self._read(), self.recipe)

    def digest(self, *, tables: bool = False) -> DigestReport:
        """SHA-256 of the eventlog in seq order (and one per materialized table)."""
        from kenning.eventlog import state
        from kenning.eventlog.digest import digest
        from kenning.materialize.digest import table_digests

        conn = self._read()
        scraped = state.read(conn)
        return DigestReport(digest(conn), table_digests(conn) if tables else [],
                            scraped.reproducible, complete=not scraped.missing_blobs)

    def write_digest(self, path: Path, *, tables: bool = False) -> None:
        """A digest file for a later `check_digest` (on this or another machine)."""
        from kenning.materialize import digest

        text = digest.dump_record(digest.record(self._read(), tables=tables,
                                                recipe=self._recipe_hash()))
        try:
            path.write_text(text, encoding="utf-8")
        except IsADirectoryError as exc:
            raise KenningError(f"{path} is a directory; give a file name for the digest"
                               ) from exc
        except OSError as exc:
            raise KenningError(f"cannot write {path}: {exc.strerror}") from exc

    def check_digest(self, path: Path) -> CheckReport:
        from kenning.materialize import digest

        return digest.check(self._read(), digest.read_record(path),
                            recipe=self._recipe_hash())

    def _recipe_hash(self) -> str | None:
        """The effective recipe's hash, for digest files; None where there is no
        repository or its recipe is invalid (a digest does not need the recipe)."""
        from kenning.materialize.digest import recipe_hash

        if self.repo is None:
            return None
        try:
            return recipe_hash(self.recipe.values)
        except KenningError:
            return None

    def verify(self, *, tables: bool = False) -> VerifyResult:
        """Rebuild the eventlog (and with `tables`, every built table) from nothing in a
        temporary database and compare."""
        from kenning.api.verify import verify

        return verify(self._git("verify"), self.db_path, all_tables=tables, recipe=self.recipe)

    # -- reading ----------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The search engine on the read connection, kept warm between queries."""
        if self._searcher is None:
            from kenning.scry.search import Searcher

            # the [scry] table alone unless the whole recipe is read already
            scry = self._recipe.scry if self._recipe is not None else load_scry_params(self.root)
            self._searcher = Searcher(self._read(), rrf_k=scry.rrf_k)
        return self._searcher

    def warm_up(self) -> None:
        """Load what a semantic query needs (the vectors, the query encoder) now instead
        of at the first query; nothing to load when the database has no vectors. For a
        process that keeps answering (a server): its query encoder starts slower and
        answers faster."""
        from kenning.scry.matrix import has_vectors

        searcher = self.searcher()
        searcher.long_lived = True
        if has_vectors(self._read()):
            searcher.semantic_index().matrix()
            searcher.encode("warm up")

    def scry(self, query: str, *, mode: str = "hybrid", types: Sequence[str] = (),
             since: str | None = None, until: str | None = None, author: str | None = None,
             path: str | None = None, limit: int = 10, per_file: int = 1) -> Answer:
        """Search code, decisions and commits: hybrid (BM25 + vectors) by default. Code
        answers are files (`per_file` places each at most), raised by the history that
        names them; why/when questions put history first, "who knows" ones people."""
        from kenning.repository.timespec import as_time
        from kenning.scry.filters import Filters

        filters = Filters(types=tuple(types),
                          since=as_time(self.repo, since, end=False, option="--since"),
                          until=as_time(self.repo, until, end=True, option="--until"),
                          author=author, path=self._path_filter(path))
        return self.searcher().search(query, mode=mode, filters=filters, limit=limit,
                                      per_file=per_file)

    def file_report(self, path: str, *, limit: int = 10) -> FileReport:
        """What changes with a file, who knows it, its activity, what was said about it."""
        from kenning.scry.file_report import file_report

        return file_report(self._read(), self.repo_path(path), limit=limit)

    def repo_path(self, given: str) -> str:
        """A path (or glob) as git spells it: repository-relative, forward slashes. A
        relative path is relative to the current directory when that lies in the
        repository (as git reads pathspecs), else to the repository's root; an absolute
        one must lie in the repository."""
        text = given.strip()
        if not text:
            raise KenningError("the path is empty; give a file, a folder or a glob")
        if self.root is None:
            return text.removeprefix("./")
        root = self.root.resolve()
        cwd = Path.cwd()
        base = cwd if cwd.resolve().is_relative_to(root) else root  # absolute: ignored
        absolute = base / text
        try:
            return absolute.resolve().relative_to(root).as_posix()
        except ValueError:
            raise KenningError(f"the path {given!r} is outside the repository at "
                               f"{self.root}") from None

    def _path_filter(self, path: str | None) -> str | None:
        return None if path is None else self.repo_path(path)

    def definitions(self, name: str, *, path: str | None = None,
                    limit: int | None = None) -> list[Definition]:
        """Where a function, type, field or constant called `name` is defined."""
        from kenning.scry.code_lookup import definitions

        return definitions(self._read(), name, path=self._path_filter(path), limit=limit)

    def callers(self, name: str, *, path: str | None = None,
                limit: int | None = None) -> list[Call]:
        """Every call site of `name`, with its calling function."""
        from kenning.scry.code_lookup import callers

        return callers(self._read(), name, path=self._path_filter(path), limit=limit)

    def recent(self, *, since: str | None = None, until: str | None = None,
               path: str | None = None, limit: int = 10) -> Recent:
        """Decisions and commits from `since` on (default: the 30 days before the newest
        event), newest first; with `path`, only those concerning that file or folder."""
        from kenning.repository.timespec import as_time
        from kenning.scry.history import recent

        return recent(self._read(),
                      since=as_time(self.repo, since, end=False, option="--since"),
                      until=as_time(self.repo, until, end=True, option="--until"),
                      path=self._path_filter(path), limit=limit)

    def show(self, ref: str) -> Shown:
        """One commit by a prefix of its sha, or one decision (any session item, or code
        symbol) by a prefix of its event id, with its session's context."""
        from kenning.scry.history import show

        return show(self._read(), ref)

    def sessions(self) -> list[dict[str, Any]]:
        """The session notes the eventlog holds: id, title, start, note file and how many
        decisions each has, newest first."""
        from kenning.eventlog import reader

        found: dict[str, dict[str, Any]] = {}
        for e in reader.events(self._read(), ("session.started", "session.decision")):
            key = e.source_file or e.source_id
            entry = found.setdefault(key, {"id": e.data.get("session_id"), "title": None,
                                           "started": None, "note": e.source_file,
                                           "decisions": 0})
            if e.event_type == "session.started":
                entry.update(title=e.data.get("title"), started=e.timestamp)
            else:
                entry["decisions"] += 1
        return sorted(found.values(), key=lambda s: (s["started"] or "", s["note"] or ""),
                      reverse=True)

    def session_note(self, path: str) -> str:
        """The whole text of one session note as committed at the commit the eventlog
        stands at (the working tree's copy for a note that only `--worktree` read)."""
        note = self.repo_path(path)
        known = {s["note"] for s in self.sessions()}
        if note not in known:
            examples = ", ".join(sorted(n for n in known if n)[:3]) or "none yet"
            raise KenningError(f"no session note {note!r} in the eventlog (notes: {examples})")
        repo = self._git("reading a session note")
        target = self.scrape_state().target
        entries = repo.ls_tree(target, [note]) if target else []
        blob = next((e.object_id for e in entries if e.path == note and e.kind == "blob"), None)
        if blob is not None:
            return repo.read_blob(blob).decode("utf-8", "replace")
        try:  # read from the working tree by `scrape --worktree`
            return (repo.root / note).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise KenningError(f"session note {note!r} is neither committed at "
                               f"{(target or '?')[:12]} nor in the working tree") from exc

    def events(self, *, types: Sequence[str] = (), since: str | None = None,
               until: str | None = None) -> Iterator[StoredEvent]:
        """The eventlog in seq order: event types by prefix, UTC times as stored."""
        from kenning.eventlog import reader

        return reader.events(self._read(), types, since=since, until=until)

    def export(self, fmt: str = "jsonl", output: Path | None = None,
               stream: IO[bytes] | None = None) -> int:
        """Write the eventlog as JSON Lines or Parquet; the number of events written."""
        import sys

        from kenning.api.export import export

        return export(self._read(), fmt, output, stream or sys.stdout.buffer)

    def generate_queries(self, commits: int) -> dict[str, Any]:
        """A query set from `commits` commits spread over the history (subject = query,
        changed files = relevant; each excludes its source commit)."""
        from kenning.scry.evaluate import generate

        return generate(self._read(), commits)

    def evaluate(self, queryset: Path, modes: Sequence[str] = ()
                 ) -> tuple[list[Query], list[ModeScore]]:
        """Retrieval quality and latency of each search mode on a query set file."""
        from kenning.scry.evaluate import evaluate, load_queryset
        from kenning.scry.search import MODES

        chosen = tuple(dict.fromkeys(modes)) or MODES
        unknown = [m for m in chosen if m not in MODES]
        if unknown:
            raise KenningError(f"unknown --mode {unknown[0]!r}; choose {', '.join(MODES)}")
        queries = load_queryset(queryset)
        searcher = self.searcher()
        searcher.long_lived = True  # a question set: many questions
        return queries, evaluate(searcher, queries, chosen)

    def query(self, name: str, **options: Any) -> list[dict[str, Any]]:
        """One of the cross-cutting questions: decisions-context, collaboration,
        decision-impact (options: days, limit)."""
        from kenning.scry import queries

        asks: dict[str, Any] = {"decisions-context": queries.decisions_context,
                "collaboration": queries.collaboration,
                "decision-impact": queries.decision_impact}
        if name not in asks:
            raise KenningError(f"unknown query {name!r}; choose from {', '.join(asks)}")
        return asks[name](self._read(), **options)  # type: ignore[no-any-return]
