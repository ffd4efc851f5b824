"""The `kenning` command: argument parsing, dispatch, and the one error boundary."""

from __future__ import annotations

import signal
import sys
import traceback

import typer

# typer's own copy of click, whose exceptions reach main() once typer stops handling them
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from kenning.cli.digest import digest_command
from kenning.cli.eval import eval_command
from kenning.cli.export import export_command
from kenning.cli.helptext import Command
from kenning.cli.init import init_command
from kenning.cli.materialize import materialize_command
from kenning.cli.mcp import mcp_command
from kenning.cli.query import query_app
from kenning.cli.recipe import recipe_app
from kenning.cli.scrape import scrape_command
from kenning.cli.scry import scry_command
from kenning.cli.status import status_command
from kenning.cli.verify import verify_command
from kenning.errors import KenningError

app = typer.Typer(
    name="kenning",
    help="A deterministic eventlog of a repository's history, session notes and code, "
    "and questions answered from it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from kenning import FORMAT_VERSION, __version__

        sys.stdout.write(f"kenning {__version__} (eventlog format {FORMAT_VERSION})\n")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True,
                                          callback=_version,
                                          help="Print kenning's version and exit.")) -> None:
    """A deterministic eventlog of a repository's history, session notes and code, and
    questions answered from it."""


app.command("init", cls=Command)(init_command)
app.command("scrape", cls=Command)(scrape_command)
app.command("digest", cls=Command)(digest_command)
app.command("verify", cls=Command)(verify_command)
app.command("status", cls=Command)(status_command)
app.command("materialize", cls=Command)(materialize_command)
app.command("scry", cls=Command)(scry_command)
app.command("eval", cls=Command)(eval_command)
app.command("export", cls=Command)(export_command)
app.command("mcp", cls=Command)(mcp_command)
app.add_typer(recipe_app, name="recipe")
app.add_typer(query_app, name="query")


class _Interrupted(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP. No KeyboardInterrupt, which typer turns into a silent
    exit 130: this one reaches main(). On the way out the running step rolls back
    (every write transaction does on any exception), and workers are stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    raise _Interrupted(signum)


def main() -> None:
    """Run the app; turn every failure into one line on stderr and an exit code."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:  # nohup
            signal.signal(number, _interrupt)
    try:
        code = app(standalone_mode=False)  # usage errors reach the boundary below
    except NoArgsIsHelpError as exc:  # `kenning` or `kenning query` alone: the help
        exc.show()
        sys.exit(exc.exit_code)
    except ClickException as exc:  # click's usage block and error line, made one line
        where = exc.ctx.command_path if isinstance(exc, UsageError) and exc.ctx else "kenning"
        message = exc.format_message().rstrip(".")
        sys.stderr.write(f"kenning: {message[:1].lower()}{message[1:]} (see `{where} -h`)\n")
        sys.exit(exc.exit_code)
    except KenningError as exc:
        sys.stderr.write(f"kenning: {exc.message}\n")
        sys.exit(exc.exit_code)
    except (_Interrupted, KeyboardInterrupt, typer.Abort) as exc:
        sys.stderr.write("kenning: interrupted; the step that was running was rolled back "
                         "(finished steps and cached vectors are kept)\n")
        sys.exit(128 + exc.signum if isinstance(exc, _Interrupted) else 130)
    except Exception as exc:  # the last resort: still one line, details in a file
        from kenning.eventlog.database import explain

        known = explain(exc)  # a damaged, full or read-only database is no bug
        if known is not None:
            sys.stderr.write(f"kenning: {known.message}\n")
            sys.exit(known.exit_code)
        log = _write_crash_log()
        sys.stderr.write(f"kenning: internal error: {type(exc).__name__}: {exc} "
                         f"(details in {log})\n")
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)  # typer.Exit(n) comes back as n


def _write_crash_log() -> str:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / "kenning-last-error.log"
    path.write_text(traceback.format_exc())
    return str(path)
