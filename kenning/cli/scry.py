"""`kenning scry`: search decisions, commits and code; or report on one file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kenning.cli.common import (
    DbOption,
    JsonOption,
    RepoOption,
    bold,
    err,
    note_line,
    out,
    print_json,
    stdout_is_terminal,
    stdout_width,
    styled,
)
from kenning.errors import KenningError

if TYPE_CHECKING:
    from kenning.scry.search import Result

UNTIL_NOTE = ("--until filtered the results of the current database by time; its derived "
              "figures (co-change, expertise, signals) are today's. For the project exactly "
              "as it stood then: kenning scrape --until DATE, then scry --until DATE again")


def scry_command(
    query: str = typer.Argument(None, metavar="QUERY", help="What to look for, in words."),
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
    since: str = typer.Option(None, "--since", metavar="DATE", help="Only from then on: "
                              "YYYY[-MM[-DD]] (its start), an ISO time, '2 weeks ago', or "
                              "a tag or commit (its time)."),
    until: str = typer.Option(None, "--until", metavar="DATE", help="Only up to then (the "
                              "end of a YYYY[-MM[-DD]]; a tag or commit: its time)."),
    author: str = typer.Option(None, "--author", metavar="NAME",
                               help="Only commits whose author name contains NAME."),
    path: str = typer.Option(None, "--path", metavar="PATH",
                             help="Only results concerning a matching path: a folder, a file "
                             "or a glob such as 'src/*.py' (relative to the current "
                             "directory, as git reads paths)."),
    limit: int = typer.Option(10, "--limit", metavar="N", help="How many results."),
    per_file: int = typer.Option(
        1, "--per-file", metavar="N",
        help="How many places of one file may answer (default 1: one slot per file, at "
        "its best place)."),
    explain: bool = typer.Option(False, "--explain",
                                 help="Say why each hit is there: each search arm's rank, "
                                 "boosts, penalties and history evidence."),
    fmt: str = typer.Option(
        "table", "--format", metavar="FORMAT",
        help="table (fitted to the terminal; a location is never split), plain (one hit "
        "per line: where, kind, time, snippet, like grep), tsv, or json.",
    ),
    db: Path = DbOption,
    repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Answer a question from the database: hybrid search by default.

    How/where questions answer with code (one slot per file, raised by the commits and
    notes that name it); why/when questions with decisions and commits first; "who
    knows X" with people.

    Examples:

      kenning scry "why did we move off separate databases"

      kenning scry "retry backoff" --type commit --since 2024-01-01 --limit 5

      kenning scry "parse config" --mode lexical --path 'src/*.py' --json

      kenning scry --file src/app.py
    """
    from kenning.cli.hits import FORMATS

    if fmt not in FORMATS:
        raise KenningError(f"unknown --format {fmt!r}; choose from {', '.join(FORMATS)}")
    fmt = "json" if as_json else fmt
    if file is not None and query:
        raise KenningError("give either a QUERY or --file PATH, not both")
    if file is None and query is None:
        raise KenningError("nothing to look for; give a QUERY (or --file PATH)")
    from kenning.api.handle import open_as_of

    k, exact = open_as_of(repo, db, until)
    with k:
        moment = k.as_of()
        if file is not None:
            report = k.file_report(file, limit=limit)
        else:
            answer = k.scry(query, mode=mode, types=types or (), since=since,
                            until=None if exact else until, author=author, path=path,
                            limit=limit, per_file=per_file)
    notes = [n for n in (moment.note(), None if exact else UNTIL_NOTE) if n]
    if file is not None:
        report.notes.extend(notes)
        if fmt == "json":
            print_json(report.as_json())
        else:
            _print_report(report)
        return
    answer.notes.extend(notes)
    for note in answer.notes:
        note_line(note)
    if fmt == "json":  # an empty list says it all, and scripts get exit 0
        print_json({"query": query, "mode": answer.mode, "intent": answer.intent,
                    "notes": answer.notes, "people": [p.as_json() for p in answer.people],
                    "results": [r.as_json(explain) for r in answer.results]})
    elif answer.results or answer.people:
        if answer.people and fmt == "table":
            _print_people(answer.people)
        _print_results(answer.results, answer.mode, explain, fmt)
    else:  # like grep: nothing found is said on stderr, and exit 1
        err.print(f"no results for {query!r} ({answer.mode})", markup=False)
        raise typer.Exit(1)


def _print_results(results: list[Result], mode: str, explain: bool, fmt: str) -> None:
    import sys

    from kenning.cli import hits

    if not results:
        return
    rows = [hits.to_row(r, explain) for r in results]
    if fmt == "plain":
        lines = hits.plain(rows)
    elif fmt == "tsv":
        lines = hits.tsv(rows)
    else:
        lines = hits.table(rows, hits.terminal_width(stdout_is_terminal(), stdout_width()))
        if styled():
            lines[0] = f"\x1b[1m{lines[0]}\x1b[0m"
    if fmt == "table" and stdout_is_terminal():
        noun = "result" if len(results) == 1 else "results"
        footer = f"{len(results)} {noun}, {mode}"
        lines.append(f"\x1b[2m{footer}\x1b[0m" if styled() else footer)
    # written as they are: a console would expand the tabs of TSV and re-wrap lines
    sys.stdout.write("".join(line + "\n" for line in lines))


def _print_people(people: list[Any]) -> None:
    out.print(bold("who knows this") + " (score, name, their files among the answer's)",
              markup=False)
    for p in people:
        files = ", ".join(p.files[:3]) + (f" +{len(p.files) - 3}" if len(p.files) > 3 else "")
        out.print(f"  {p.score:>7.3f}  {p.name} <{p.author}>  {files}".rstrip(), markup=False)
    out.print("")


def _print_report(report: Any) -> None:
    out.print(bold(report.path), markup=False)
    for note in report.notes:
        note_line(note)
    out.print("\n" + bold("changes together with")
              + " (degree %, shared revisions, last together)", markup=False)
    for c in report.co_changes:
        out.print(f"  {c['degree']:>6.1f}  {c['shared']:>4}  {c['last_together'][:10]}  "
                  f"{c['path']}")
    if not report.co_changes:
        out.print("  (none above the recipe's thresholds)")
    main = f" — main developer: {report.main_developer}" if report.main_developer else ""
    out.print("\n" + bold("experts") + " (score, commits, lines added, ownership, last change)"
              + main, markup=False)
    for e in report.experts:
        own = f"{100 * e['ownership']:.0f}%" if e["ownership"] is not None else "-"
        out.print(f"  {e['score']:>7.3f}  {e['commits']:>5}  {e['lines_added']:>7}  {own:>5}  "
                  f"{e['last_touch'][:10]}  {e['name']} <{e['author']}>"
                  f"{'  (main)' if e['is_main'] else ''}")
    out.print("\n" + bold("activity")
              + " (decayed score, events, last change, per-window counts)", markup=False)
    for a in report.activity:
        windows = "  ".join(f"{k}: {v['events']}" for k, v in a["windows"].items())
        out.print(f"  {a['signal']:<8} {a['score']:>8.3f}  {a['events']:>5}  "
                  f"{a['last_time'][:10]}  {windows}")
    for title, rows in (("decisions and notes", report.decisions), ("commits", report.commits)):
        out.print("\n" + bold(f"{title} that mention it") + " (newest first)", markup=False)
        for d in rows:
            source = d["source"][:10] if title == "commits" else d["source"]
            out.print(f"  {d['time'][:10]}  {d['event_type']:<17} {source:<12} {d['title']}")
        if not rows:
            out.print("  (none)")
