"""`--help` in words a person reads: no Python types, no range notation.

Typer prints `SCRAPER <list[str]>`, `{name}` and `[default: 2; x>=1]`; these command
classes print `SCRAPER...`, `NAME` and `[default: 2]` instead. Limits are said in
each option's help text, where they read as a sentence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from typer.core import TyperCommand

if TYPE_CHECKING:  # typer carries its own click; the real one is not a dependency
    from typer import _click as click

_TYPE = re.compile(r" <[^<>]+>$")  # typer's " <list[str]>" after an argument's name
_RANGE = re.compile(r"(; )?(\d+(\.\d+)?<=)?x(>=|<=)\d+(\.\d+)?")


def _records(command: click.Command, ctx: click.Context
             ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    args, opts = [], []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        name, help_text = record
        help_text = _RANGE.sub("", help_text).replace(" []", "").replace("[]", "").rstrip()
        if param.param_type_name == "argument":
            repeated = "..." if param.nargs != 1 else ""
            args.append((_label(param) + repeated, _TYPE.sub("", help_text)))
        else:
            opts.append((name, help_text))
    return args, opts


def _label(param: click.Parameter) -> str:
    return getattr(param, "metavar", None) or (param.name or "").upper()


def _usage_name(param: click.Parameter) -> str:
    name = _label(param)
    repeated = "..." if param.nargs != 1 else ""
    return f"{name}{repeated}" if param.required else f"[{name}]{repeated}"


class Command(TyperCommand):
    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [_usage_name(p) for p in self.get_params(ctx)
                         if p.param_type_name == "argument"]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        args, opts = _records(self, ctx)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)
