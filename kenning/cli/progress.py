"""A rich progress bar on stderr when it is a terminal; silence otherwise."""

from __future__ import annotations

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


class RateColumn(TransferSpeedColumn):
    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return f"{speed:,.0f}/s" if speed else ""


class BarProgress:
    """The engine's Progress protocol drawn with rich: label, bar, count, rate, ETA."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, label: str, total: int | None) -> None:
        if not err.is_terminal:
            return
        self._progress = Progress(
            TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
            RateColumn(), TimeRemainingColumn(), console=err, transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress, self._task = None, None
