"""`kenning scry --file PATH`: what changes with a file, who knows it, what was said about it.

Reads the views of other materializers (co_changes, expertise, signals) and
the documents table. A view that is missing (never built, or disabled in the
recipe) leaves its section empty with a note, never an error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import apsw

from kenning.eventlog.database import dict_rows
from kenning.scry.filters import check_limit

MATERIALIZE_HINT = "run `kenning materialize`"


@dataclass
class FileReport:
    path: str
    co_changes: list[dict[str, Any]] = field(default_factory=list)
    experts: list[dict[str, Any]] = field(default_factory=list)
    main_developer: str | None = None
    activity: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _names(conn: apsw.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


def file_report(conn: apsw.Connection, path: str, limit: int = 10) -> FileReport:
    check_limit(limit)
    report = FileReport(path)
    present = _names(conn)

    if "co_changes" in present:
        report.co_changes = dict_rows(conn, """
            SELECT coupled AS path, degree, shared, revisions, coupled_revisions,
                   last_together
            FROM co_changes WHERE path = ?
            ORDER BY degree DESC, shared DESC, coupled LIMIT ?""", (path, limit))
    else:
        report.notes.append(f"no co-change table yet; {MATERIALIZE_HINT}")

    if "expertise" in present:
        # ranked as `experts_for` ranks people (score, then e-mail): how much they did to
        # the file as well as how recently; the main developer is by lines added and named
        # even when their score leaves them out of the first `limit`
        report.experts = dict_rows(conn, """
            SELECT name, author, commits, lines_added, lines_removed, first_touch, last_touch,
                   round(recent, 4) AS recent, round(score, 4) AS score,
                   round(ownership, 4) AS ownership, is_main
            FROM expertise e WHERE path = ?
            ORDER BY e.score DESC, e.author LIMIT ?""", (path, limit))  # unrounded
        for expert in report.experts:
            expert["is_main"] = bool(expert["is_main"])
        main = conn.execute("SELECT name, author FROM expertise_main WHERE path = ?",
                            (path,)).fetchone()
        if main is not None:
            report.main_developer = f"{main[0]} <{main[1]}>"
    else:
        report.notes.append(f"no expertise table yet; {MATERIALIZE_HINT}")

    if "signal_scores" in present:
        report.activity = dict_rows(conn, """
            SELECT signal, events, total, last_time, round(score, 4) AS score
            FROM signal_scores WHERE entity_kind = 'file' AND entity = ? ORDER BY signal""",
                                (path,))
        windows = dict_rows(conn, """
            SELECT signal, window_days, events, total FROM signal_windows
            WHERE entity_kind = 'file' AND entity = ? ORDER BY signal, window_days""", (path,))
        for row in report.activity:
            row["windows"] = {
                f"{w['window_days']}d": {"events": w["events"], "total": w["total"],
                                         "per_day": round(w["events"] / w["window_days"], 4)}
                for w in windows if w["signal"] == row["signal"]}
    else:
        report.notes.append(f"no activity signals yet; {MATERIALIZE_HINT}")

    if "documents" in present:
        mentions = """
            SELECT d.event_type, d.timestamp AS time, d.source, d.author, d.title, d.paths
            FROM documents d
            WHERE d.kind = ? AND EXISTS (SELECT 1 FROM json_each(d.paths) p WHERE p.value = ?)
            ORDER BY d.timestamp DESC, d.event_id LIMIT ?"""
        report.decisions = dict_rows(conn, mentions, ("session", path, limit))
        report.commits = dict_rows(conn, mentions, ("commit", path, limit))
        for row in report.decisions + report.commits:
            row["paths"] = json.loads(row["paths"])
    else:
        report.notes.append(f"no search index yet; {MATERIALIZE_HINT}")

    if not (report.co_changes or report.experts or report.activity or report.decisions
            or report.commits) and len(report.notes) < 4:
        report.notes.append(f"nothing in the database concerns {path}; is the path "
                            "repository-relative and spelled as git has it?")
    return report
