"""`kenning scry`: search decisions, commits and code; or report on one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, open_handle, out, print_json, warn
from kenning.errors import KenningError

UNTIL_NOTE = ("--until filters results by time on this database; derived figures "
              "(co-change, expertise, signals) are as of its last scrape. For the exact "
              "past: kenning scrape --until DATE --db PATH, then kenning scry --db PATH")


def scry_command(
    query: str = typer.Argument(None, metavar="[QUERY]", help="What to look for, in words."),
    file: str = typer.Option(
        None, "--file", metavar="PATH",
        help="Report on one file instead: co-changing files, experts, activity, and the "
        "decisions and commits that mention it.",
    ),
    mode: str = typer.Option(
        "hybrid", "--mode", metavar="MODE",
        help="hybrid (BM25 + vectors, fused), lexical (BM25 only; never loads the model) "
        "or semantic (vectors only).",
    ),
    types: list[str] = typer.Option(
        None, "--type", metavar="TYPE",
        help="Only these (repeatable): session, commit, code, or an event type such as "
        "session.decision.",
    ),
    since: str = typer.Option(None, "--since", metavar="DATE", help="Only from then on."),
    until: str = typer.Option(None, "--until", metavar="DATE", help="Only up to then."),
    author: str = typer.Option(None, "--author", metavar="NAME",
                               help="Only commits whose author name contains NAME."),
    path: str = typer.Option(None, "--path", metavar="GLOB",
                             help="Only results concerning a matching path (a folder, a file "
                             "or a glob such as 'src/*.py')."),
    limit: int = typer.Option(10, "--limit", metavar="N", help="How many results."),
    explain: bool = typer.Option(False, "--explain",
                                 help="Show each search arm's rank and score."),
    db: Path = DbOption,
    repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Answer a question from the database: hybrid search by default.

    Examples:

      kenning scry "why did we move off separate databases"

      kenning scry "retry backoff" --type commit --since 2024-01-01 --limit 5

      kenning scry "parse config" --mode lexical --path 'src/*.py' --json

      kenning scry --file src/app.py
    """
    if file is not None and query:
        raise KenningError("give either a QUERY or --file PATH, not both")
    if file is None and query is None:
        raise KenningError("nothing to look for; give a QUERY (or --file PATH)")
    with open_handle(repo, db) as k:
        if file is not None:
            report = k.file_report(file, limit=limit)
        else:
            answer = k.scry(query, mode=mode, types=types or (), since=since, until=until,
                            author=author, path=path, limit=limit)
    if file is not None:
        if until:
            report.notes.append(UNTIL_NOTE)
        if as_json:
            print_json(report.as_json())
        else:
            _print_report(report)
        return
    if until:
        answer.notes.append(UNTIL_NOTE)
    for note in answer.notes:
        warn(note)
    if as_json:
        print_json({"query": query, "mode": answer.mode, "notes": answer.notes,
                    "results": [r.as_json(explain) for r in answer.results]})
        return
    _print_results(answer.results, answer.mode, explain)


def _print_results(results: list[Any], mode: str, explain: bool) -> None:
    from rich.table import Table

    if not results:
        out.print(f"no results ({mode})")
        return
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold",
                  min_width=min(out.width, 100))
    for column in ("#", "kind", "time"):
        table.add_column(column, no_wrap=True)
    table.add_column("where", max_width=44, overflow="fold")
    table.add_column("snippet", ratio=1, min_width=30, overflow="fold")
    table.add_column("score", no_wrap=True)
    if explain:
        table.add_column("lexical", no_wrap=True)
        table.add_column("semantic", no_wrap=True)
    for i, r in enumerate(results, 1):
        # code: its path:line says it all; commits and notes: the source, then the files
        where = r.source[:10] if r.kind == "commit" else r.source
        if r.kind != "code":
            where += "".join(f"\n{p}" for p in r.paths[:3])
            where += f"\n+{len(r.paths) - 3} more" if len(r.paths) > 3 else ""
        row = [str(i), r.kind, r.timestamp[:10], where, r.snippet, f"{r.score:.4f}"]
        if explain:
            for arm in ("lexical", "semantic"):
                rank, score = r.arms.get(arm, (None, None))
                row.append(f"#{rank} {score:.3f}" if rank is not None else "-")
        table.add_row(*row)
    out.print(table)
    out.print(f"[dim]{len(results)} results, {mode}[/]", markup=True)


def _print_report(report: Any) -> None:
    out.print(f"[bold]{report.path}[/]", markup=True)
    for note in report.notes:
        warn(note)
    out.print("\n[bold]changes together with[/] (degree %, shared revisions, last together)",
              markup=True)
    for c in report.co_changes:
        out.print(f"  {c['degree']:>6.1f}  {c['shared']:>4}  {c['last_together'][:10]}  "
                  f"{c['path']}")
    if not report.co_changes:
        out.print("  (none above the recipe's thresholds)")
    out.print("\n[bold]experts[/] (score, commits, ownership)"
              + (f" — main developer: {report.main_developer}" if report.main_developer else ""),
              markup=True)
    for e in report.experts:
        own = f"{100 * e['ownership']:.0f}%" if e["ownership"] is not None else "-"
        out.print(f"  {e['score']:>7.3f}  {e['commits']:>4}  {own:>5}  {e['name']} "
                  f"<{e['author']}>{'  (main)' if e['is_main'] else ''}")
    out.print("\n[bold]activity[/] (decayed score, events, last change, per-window counts)",
              markup=True)
    for a in report.activity:
        windows = "  ".join(f"{k}: {v['events']}" for k, v in a["windows"].items())
        out.print(f"  {a['signal']:<8} {a['score']:>8.3f}  {a['events']:>5}  "
                  f"{a['last_time'][:10]}  {windows}")
    for title, rows in (("decisions and notes", report.decisions), ("commits", report.commits)):
        out.print(f"\n[bold]{title} that mention it[/] (newest first)", markup=True)
        for d in rows:
            source = d["source"][:10] if title == "commits" else d["source"]
            out.print(f"  {d['time'][:10]}  {d['event_type']:<17} {source:<12} {d['title']}")
        if not rows:
            out.print("  (none)")
