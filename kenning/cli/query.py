"""`kenning query decisions-context|collaboration|decision-impact|definitions|callers`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, err, open_handle, out, print_json
from kenning.cli.helptext import Command

query_app = typer.Typer(
    help="Questions across decisions, commits, authors and code, answered from the "
    "eventlog and its tables.",
    no_args_is_help=True,
)

LimitOption = typer.Option(None, "--limit", min=0, metavar="N",
                           help="Show at most N results. Default: all.")


def nothing(message: str) -> None:
    """Like grep: nothing found is said on stderr, with exit 1."""
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(1)


def _run(db: Path | None, repo: Path, ask: Callable[[Any], list[Any]]) -> list[Any]:
    with open_handle(repo, db) as k:
        return ask(k)


@query_app.command("decisions-context", cls=Command)
def decisions_context_command(
    days: int = typer.Option(7, "--days", min=0, help="How many days before each decision."),
    limit: int | None = LimitOption, db: Path = DbOption, repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Each session decision with the commit messages of the days before it.

    Example:

      kenning query decisions-context --days 7 --limit 10
    """
    results = _run(db, repo, lambda k: k.query("decisions-context", days=days, limit=limit))
    if as_json:
        print_json({"decisions": results})
        return
    if not results:
        nothing("no session decisions in this database (notes are read from the recipe's "
                "session_paths, default layer/sessions)")
    for d in results:
        out.print(f"{d['time']}  {d['session']}  {d['text']}", markup=False)
        for c in d["commits"]:
            out.print(f"    {c['time']}  {c['sha'][:10]}  {c['subject']}  ({c['author']})",
                      markup=False)


@query_app.command("collaboration", cls=Command)
def collaboration_command(
    limit: int | None = LimitOption, db: Path = DbOption, repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Pairs of authors who changed the same files, most shared files first.

    Example:

      kenning query collaboration --limit 20 --json
    """
    results = _run(db, repo, lambda k: k.query("collaboration", limit=limit))
    if as_json:
        print_json({"pairs": results})
        return
    if not results:
        nothing("no two authors changed the same file")
    for p in results:
        out.print(f"{p['shared_files']:>5} files  {p['author_name']} <{p['author']}> "
                  f"({p['author_commits']} commits)  +  {p['other_name']} <{p['other']}> "
                  f"({p['other_commits']} commits)  e.g. {', '.join(p['files'])}", markup=False)


@query_app.command("decision-impact", cls=Command)
def decision_impact_command(
    days: int = typer.Option(14, "--days", min=0, help="How many days after each decision."),
    limit: int | None = LimitOption, db: Path = DbOption, repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Decisions that name files, with the commits of the days after them touching those files.

    Example:

      kenning query decision-impact --days 14 --json
    """
    results = _run(db, repo, lambda k: k.query("decision-impact", days=days, limit=limit))
    if as_json:
        print_json({"decisions": results})
        return
    if not results:
        nothing("no session decision names a file the history knows")
    for d in results:
        out.print(f"{d['time']}  {d['text']}  [{', '.join(d['files'])}]", markup=False)
        for c in d["commits"]:
            out.print(f"    {c['time']}  {c['sha'][:10]}  {c['subject']}  "
                      f"({', '.join(c['files'])})", markup=False)


PathOption = typer.Option(None, "--path", metavar="PATH",
                          help="Only this file, folder or glob, e.g. 'lib/*' (relative to "
                          "the current directory, as git reads paths).")


@query_app.command("definitions", cls=Command)
def definitions_command(
    name: str = typer.Argument(..., help="A name (`execute`) or qualified name "
                               "(`Session.execute`)."),
    path: str | None = PathOption, limit: int | None = LimitOption, db: Path = DbOption,
    repo: Path = RepoOption, as_json: bool = JsonOption,
) -> None:
    """Where a function, type, field or constant is defined.

    Example:

      kenning query definitions Session.execute
    """
    results = _run(db, repo, lambda k: k.definitions(name, path=path, limit=limit))
    if as_json:
        print_json({"name": name, "definitions": [d.as_json() for d in results]})
        return
    for d in results:
        out.print(f"{d.path}:{d.line}  {d.kind}  {d.qualified_name}", markup=False)
    if not results:
        nothing(f"no definition of {name!r}" + (f" in {path}" if path else ""))


@query_app.command("callers", cls=Command)
def callers_command(
    name: str = typer.Argument(..., help="What is called: a name (`execute`) or the end "
                               "of the callee as written (`session.execute`)."),
    path: str | None = PathOption, limit: int | None = LimitOption, db: Path = DbOption,
    repo: Path = RepoOption, as_json: bool = JsonOption,
) -> None:
    """Every place that calls a name, with the calling function.

    Example:

      kenning query callers execute --path 'lib/*' --limit 20
    """
    results = _run(db, repo, lambda k: k.callers(name, path=path, limit=limit))
    if as_json:
        print_json({"name": name, "calls": [c.as_json() for c in results]})
        return
    for c in results:
        out.print(f"{c.path}:{c.line}  {c.caller}  ->  {c.callee}", markup=False)
    if not results:
        nothing(f"no calls of {name!r}" + (f" in {path}" if path else ""))
