"""Showing a run's stages on stderr: bars on a terminal, a plain line now and then in a log.

On a terminal every stage (git, sessions, code, each materializer, embeddings) gets
its bar with its total, rate and time left, in one display for the whole run. When
stderr is a file or a CI log, a stage says where it is in one plain line at most
every PLAIN_EVERY seconds (KENNING_PROGRESS_SECONDS overrides it), and nothing at
all when it ends sooner.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from kenning.cli.common import err
from kenning.progress import Silent

PLAIN_EVERY = 10.0


class RateColumn(TransferSpeedColumn):
    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return f"{speed:,.0f}/s" if speed else ""


class BarProgress:
    """Every stage of a run as a rich bar: label, bar, count, rate, time left."""

    def __init__(self) -> None:
        self._display: Progress | None = None
        self._task: TaskID | None = None

    def start(self, stage: str, total: int | None) -> None:
        if self._display is None:
            self._display = Progress(
                TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(),
                RateColumn(), TimeRemainingColumn(), console=err, transient=True)
            self._display.start()
        self._task = self._display.add_task(stage, total=total)

    def advance(self, n: int = 1) -> None:
        if self._display is not None and self._task is not None:
            self._display.advance(self._task, n)

    def finish(self) -> None:
        if self._display is not None and self._task is not None:
            task = self._display.tasks[self._task]
            if task.total is not None:  # a stage that ends early still shows as done
                self._display.update(self._task, completed=task.total)
        self._task = None

    def note(self, message: str) -> None:
        (self._display.console if self._display is not None else err).print(
            f"kenning: {message}", markup=False, highlight=False)

    def close(self) -> None:
        if self._display is not None:
            self._display.stop()
        self._display = None


class LineProgress:
    """A stage's progress as one plain line at most every `every` seconds."""

    def __init__(self, stream: IO[str], every: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.every, self.clock = stream, every, clock
        self._stage, self._done = "", 0
        self._total: int | None = None
        self._started = self._said = 0.0

    def start(self, stage: str, total: int | None) -> None:
        self._stage, self._total, self._done = stage, total, 0
        self._started = self._said = self.clock()

    def advance(self, n: int = 1) -> None:
        self._done += n
        now = self.clock()
        if now - self._said >= self.every:
            self._said = now
            self.stream.write(f"kenning: {self._line(now)}\n")
            self.stream.flush()

    def finish(self) -> None:
        now = self.clock()
        if self._said > self._started:  # it spoke while running: say that it ended
            self.stream.write(f"kenning: {self._stage} done, {self._done:,} in "
                              f"{now - self._started:.0f}s\n")
            self.stream.flush()

    def note(self, message: str) -> None:
        self.stream.write(f"kenning: {message}\n")
        self.stream.flush()

    def close(self) -> None:
        pass

    def _line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self._done / elapsed
        if self._total is None:
            return f"{self._stage} {self._done:,} ({rate:,.0f}/s)"
        left = (self._total - self._done) / rate if rate > 0 else None
        eta = f", ~{left:.0f}s left" if left is not None else ""
        return f"{self._stage} {self._done:,}/{self._total:,} ({rate:,.0f}/s{eta})"


def progress_for(quiet: bool) -> BarProgress | LineProgress | QuietProgress:
    """The display that suits stderr: bars, plain lines, or nothing with --quiet."""
    if quiet:
        return QuietProgress()
    if err.is_terminal:
        return BarProgress()
    seconds = os.environ.get("KENNING_PROGRESS_SECONDS", "")
    every = float(seconds) if seconds.replace(".", "", 1).isdigit() else PLAIN_EVERY
    return LineProgress(err.file, every)


class QuietProgress(Silent):
    def close(self) -> None: ...
