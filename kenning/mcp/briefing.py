"""The prompt "what should I know before changing PATH": the file report (who knows the
file, what changes with it, the decisions and commits that mention it) and the recent
decisions and commits about it, as one markdown message for the agent to read first.
"""

from __future__ import annotations

from typing import Any

from kenning.api.handle import Kenning

LIMIT = 8  # items per section: enough to act on, short enough to read


def briefing(k: Kenning, path: str) -> str:
    report = k.file_report(path, limit=LIMIT)
    lately = k.recent(path=report.path, limit=LIMIT)
    lines = [f"I am about to change `{report.path}`. Before I edit it, here is what this "
             "repository's history, session notes and code say about it (from kenning).", ""]
    lines += _section("Who knows it (commits, ownership)", [
        f"- {e['name']} <{e['author']}>: {e['commits']} commits, "
        f"{_percent(e['ownership'])} ownership{' (main developer)' if e['is_main'] else ''}"
        for e in report.experts])
    lines += _section("Files that usually change with it (degree, shared changes, last time)", [
        f"- `{c['path']}`: {c['degree']:.0f}%, {c['shared']} shared, "
        f"last {str(c['last_together'])[:10]}" for c in report.co_changes])
    lines += _section("Decisions and notes that mention it (newest first)", [
        f"- {d['time'][:10]} session {d['source']}: {d['title']}" for d in report.decisions])
    lines += _section(f"Recent decisions (since {lately.since[:10]})", [
        f"- {d['time'][:10]} session {d['session']}: {_one_line(d['text'])} "
        f"(show {d['event_id'][:12]})" for d in lately.decisions])
    lines += _section(f"Recent commits touching it (since {lately.since[:10]})", [
        f"- {c['time'][:10]} {c['sha'][:10]} {c['subject']} ({c['author']})"
        for c in lately.commits] or [
        f"- {c['time'][:10]} {c['source'][:10]} {c['title']} ({c['author']})"
        for c in report.commits])
    for note in report.notes:
        lines.append(f"(kenning: {note})")
    lines += ["", "Check that the decisions above still hold for the change, keep the files "
              "that change with it in step, and ask the main developer when in doubt. "
              "The `show` tool gives any decision or commit whole; `callers` lists the call "
              "sites of a function before its signature changes."]
    return "\n".join(lines)


def _section(title: str, items: list[str]) -> list[str]:
    return [f"## {title}", *(items or ["- (none)"]), ""]


def _percent(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.0f}%"


def _one_line(text: str, width: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"
