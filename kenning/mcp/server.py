"""The MCP tools, resources and prompt: each parses, calls the handle through `Live`,
and returns JSON fitted to the character budget.

A tool that fails returns an error result (`is_error`) whose text is kenning's one-line
message, so the agent can correct its call; nothing a tool raises stops the server.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

import kenning
from kenning.api.handle import Kenning
from kenning.errors import KenningError
from kenning.mcp import budget
from kenning.mcp.briefing import briefing
from kenning.mcp.live import Live
from kenning.scry.filters import check_limit

INSTRUCTIONS = """\
kenning answers questions about this repository from its git history, its session notes
(what earlier coding sessions decided and why) and its code, all indexed locally.
Start a task with `recent` (what was decided and changed lately) or the prompt
`before_changing` for the file you will edit; ask `scry` for anything in words; use
`definitions` and `callers` for exact names; `show` reads one commit or decision whole.
Every answer is JSON; `notes` say when the index was just updated, when results were cut
to fit, or when search fell back to words only."""

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Since = Annotated[str | None, Field(
    description="only from this time on: YYYY[-MM[-DD]], an ISO time with offset, a "
    "git date such as '2 weeks ago', or a tag or commit (its time)")]
Until = Annotated[str | None, Field(
    description="only up to this time: YYYY[-MM[-DD]], an ISO time with offset, a "
    "git date such as 'yesterday', or a tag or commit (its time)")]
PathGlob = Annotated[str | None, Field(
    description="only what concerns this repository path: a file, a folder or a glob "
    "such as 'src/*.py'")]


class KenningServer(MCPServer):
    """Arguments that do not fit a tool's schema (a word where a number goes) get one
    line, like every other bad argument, instead of pydantic's report."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                + (f" (got {e['input']!r})" if e["type"] != "missing" else "")
                for e in exc.__cause__.errors())
            return _error(f"bad arguments for {name}: {problems}")


def build(live: Live, max_chars: int) -> MCPServer:
    server = KenningServer("kenning", instructions=INSTRUCTIONS, version=kenning.__version__,
                           log_level="WARNING")

    def answer(work: Callable[[Kenning], dict[str, Any]]) -> CallToolResult:
        try:
            payload, notes = live.call(work)
        except KenningError as exc:
            return _error(exc.message)
        except Exception as exc:  # noqa: BLE001 (the server outlives any one question)
            traceback.print_exc(file=sys.stderr)
            return _error(f"internal error: {type(exc).__name__}: {exc}")
        notes += payload.pop("notes", None) or []
        payload = {"notes": notes, **payload} if notes else payload
        text = budget.render(budget.fit(payload, max_chars))
        return CallToolResult(content=[TextContent(type="text", text=text)])

    def scry(
        query: Annotated[str, Field(description="what to look for, in words: a question "
                                    "('why did we drop the cache') or keywords")],
        mode: Annotated[str, Field(description="hybrid (words and meaning, the default), "
                                   "lexical (words only) or semantic (meaning only)")] = "hybrid",
        types: Annotated[list[str] | None, Field(
            description="only these kinds: session, commit, code, or event types such as "
            "session.decision, code.function")] = None,
        since: Since = None,
        until: Until = None,
        author: Annotated[str | None, Field(
            description="only commits whose author name contains this")] = None,
        path: PathGlob = None,
        limit: Annotated[int, Field(description="how many results")] = 10,
        per_file: Annotated[int, Field(
            description="how many places of one file may answer (1: one slot per file, its "
            "best place)")] = 1,
    ) -> CallToolResult:
        return answer(lambda k: {
            "query": query, **_answer(k.scry(query, mode=mode, types=types or (), since=since,
                                             until=until, author=author, path=path,
                                             limit=limit, per_file=per_file))})

    def file_report(
        path: Annotated[str, Field(description="a file's repository-relative path, e.g. "
                                   "src/app.py")],
        limit: Annotated[int, Field(description="how many items per section")] = 10,
    ) -> CallToolResult:
        return answer(lambda k: k.file_report(path, limit=limit).as_json())

    def definitions(
        name: Annotated[str, Field(description="an exact name (parse) or qualified name "
                                   "(Parser.parse)")],
        path: PathGlob = None,
        limit: Annotated[int, Field(description="how many definitions")] = 50,
    ) -> CallToolResult:
        return answer(lambda k: _listed("definitions", name, limit,
                                        k.definitions(name, path=path)))

    def callers(
        name: Annotated[str, Field(description="the called name: bare (execute) matches "
                                   "any receiver, dotted (conn.execute) narrows")],
        path: PathGlob = None,
        limit: Annotated[int, Field(description="how many call sites")] = 50,
    ) -> CallToolResult:
        return answer(lambda k: _listed("callers", name, limit, k.callers(name, path=path)))

    def recent(since: Since = None, until: Until = None, path: PathGlob = None,
               limit: Annotated[int, Field(description="how many decisions, and how many "
                                           "commits")] = 10) -> CallToolResult:
        return answer(lambda k: k.recent(since=since, until=until, path=path,
                                         limit=limit).as_json())

    def show(ref: Annotated[str, Field(
            description="a commit sha (or its first characters), or an event_id as scry "
            "and recent return it")]) -> CallToolResult:
        return answer(lambda k: k.show(ref).as_json())

    def status() -> CallToolResult:
        return answer(lambda k: _status(k, live))

    tools: list[tuple[Callable[..., CallToolResult], str]] = [
        (scry, "Search the project's decisions (session notes), commits and code by words "
         "and meaning. Use for questions: why something is the way it is, where something "
         "is handled, what was decided about a topic, who changed what and when. Not for an "
         "exact identifier: use definitions (where it is defined) or callers (where it is "
         "called). How/where questions answer with code files first (one place per file: "
         "path, start_line, end_line, and the commits or notes that name it as evidence); "
         "why/when questions with decisions and commits first; 'who knows X' with people. "
         "Each result gives kind, time, source (commit sha, session id or path:line), "
         "paths, a snippet and an event_id for show."),
        (file_report, "Everything about one file before you change it: the files that "
         "usually change with it, who knows it best, how active it is, and the decisions "
         "and commits that mention it. Use it for a file you are about to edit; use scry "
         "for a topic rather than a file."),
        (definitions, "Where a function, method, class, field or constant with exactly "
         "this name is defined (path:line, kind, language). Use when you know the name; "
         "use scry when you only know what the code does."),
        (callers, "Every call site of a function or method name, with the calling "
         "function and path:line. Use before changing a signature or renaming; use scry "
         "for usage in words."),
        (recent, "What happened lately: decisions from session notes and commits since a "
         "date (default: the 30 days before the newest event), newest first, optionally "
         "only those concerning a file or folder. Use to catch up at the start of a task."),
        (show, "One thing whole: a commit by its sha (message, author, files with line "
         "counts, tags), or a decision or other session item by its event_id with its "
         "session (title, goals, the other items of the same update), or a code symbol. "
         "Use after scry, recent or file_report when a snippet is not enough."),
        (status, "What the index holds and whether it is current: the commit it stands "
         "at and HEAD, events per type, each table fresh or stale, embeddings catching "
         "up. Use when answers look stale or empty."),
    ]
    for fn, description in tools:
        server.add_tool(fn, description=description, annotations=READ_ONLY)
    _resources(server, live)
    return server


def _resources(server: MCPServer, live: Live) -> None:
    def read(work: Callable[[Kenning], str]) -> str:
        try:
            text, _ = live.call(work)
        except KenningError as exc:
            cls = ResourceNotFoundError if "no session note" in exc.message else ResourceError
            raise cls(exc.message) from exc
        return text

    @server.resource("kenning://status", name="status", mime_type="application/json",
                     description="What the index holds and whether it is current.")
    def status_resource() -> str:
        return read(lambda k: budget.render(_status(k, live)))

    @server.resource("kenning://sessions", name="sessions", mime_type="application/json",
                     description="Every session note: id, title, start, decisions, and the "
                     "URI that reads it whole.")
    def sessions_resource() -> str:
        return read(lambda k: budget.render([
            {**s, "uri": f"kenning://sessions/{s['note']}"} for s in k.sessions()]))

    @server.resource("kenning://sessions/{+path}", name="session note",
                     mime_type="text/markdown",
                     description="One session note, whole, as committed at the commit the "
                     "index stands at (path as in a decision's `note`).")
    def session_note(path: str) -> str:
        return read(lambda k: k.session_note(path))

    @server.prompt(name="before_changing", title="What should I know before changing PATH",
                   description="Who knows the file, what changes with it, and the decisions "
                   "and commits about it, to read before editing it.")
    def before_changing(path: str) -> str:
        try:
            text, notes = live.call(lambda k: briefing(k, path))
        except KenningError as exc:
            raise MCPError(code=INVALID_PARAMS, message=exc.message) from exc
        return "\n".join([*(f"(kenning: {n})" for n in notes), text])


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=f"kenning: {message}")],
                          is_error=True)


def _answer(answer: Any) -> dict[str, Any]:
    return {"mode": answer.mode, "intent": answer.intent, "notes": answer.notes,
            "people": [p.as_json() for p in answer.people],
            "results": [r.as_json() for r in answer.results]}


def _listed(kind: str, name: str, limit: int, found: list[Any]) -> dict[str, Any]:
    check_limit(limit)
    payload: dict[str, Any] = {"name": name, kind: [f.as_json() for f in found[:limit]]}
    if len(found) > limit:
        payload["notes"] = [f"{len(found) - limit} more of {len(found)} left out; narrow "
                            "with path or raise limit"]
    elif not found:
        payload["notes"] = [f"no {kind} of {name!r} in the code tables; scry finds it by "
                            "words if it is spelled differently"]
    return payload


def _status(k: Kenning, live: Live) -> dict[str, Any]:
    payload = k.status().as_dict()
    catching_up = live.catch_up is not None and live.catch_up.running()
    payload["server"] = {"follows_head": live.watch is not None,
                         "embeddings_catching_up": catching_up}
    return payload
