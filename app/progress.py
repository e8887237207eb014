"""Progress of a long command (ingest, reindex, classify, train, adapt): done, rate and ETA.

On a terminal it is a Rich progress bar on stderr; otherwise (a log file, a pipe, CI) it prints a
one-line summary every `interval` seconds (PATROL_PROGRESS_INTERVAL, 10 by default) and one when
it ends, so a job that runs for an hour is never silent and its log says how fast it went (a job
done within the first interval prints nothing: its own output says enough):

    patrol ingest: 150,000 / 1,000,000 posts (15.0%), 5,210/s now, 5,180/s overall, ETA 2m43s

The rate "now" is over the last interval (what the store's growth does to the speed shows there);
the ETA divides what is left by it. Stdout is never touched: `patrol classify` writes its results
there. Everything here is presentation; the commands decide what a unit is.

    with Progress("patrol ingest", total=n_lines, unit="posts") as progress:
        for batch in batches:
            ...
            progress.advance(len(batch))
"""
from __future__ import annotations

import sys
import time
from typing import IO, Callable



def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """`total`: how many units the command will do, None when unknown (stdin): then there is no
    ETA, only the count and the rate. `live`: force the Rich bar (True) or the line summaries
    (False); by default the bar when `stream` is a terminal."""

    def __init__(self, label: str, total: int | None = None, *, unit: str = "posts",
                 stream: IO[str] | None = None, interval: float | None = None,
                 live: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = _configured_interval() if interval is None else interval
        self.clock = clock
        self.done = 0
        self._started = clock()
        self._window_start, self._window_done = self._started, 0
        self._last_rate: float | None = None
        self._closed = False
        self._printed = False
        self._bar = None
        if live if live is not None else _is_terminal(self.stream):
            self._bar = _RichBar(label, total, unit, self.stream)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_total(self, total: int | None) -> None:
        """When the size is known only after starting (training: after loading the data)."""
        self.total = total
        if self._bar is not None:
            self._bar.set_total(total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.advance(n)
            return
        now = self.clock()
        if now - self._window_start >= self.interval:
            self._last_rate = (self.done - self._window_done) / (now - self._window_start)
            self._window_start, self._window_done = now, self.done
            self._print(self.line(now))

    def overall_rate(self, now: float | None = None) -> float:
        elapsed = (now if now is not None else self.clock()) - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds left at the recent rate (the overall one before the first interval), or None."""
        if self.total is None:
            return None
        rate = self._last_rate if self._last_rate else self.overall_rate(now)
        if rate <= 0:
            return None
        return max(self.total - self.done, 0) / rate

    def line(self, now: float | None = None) -> str:
        """The one-line summary as of `now`."""
        now = now if now is not None else self.clock()
        done = f"{self.done:,}"
        if self.total is not None:
            share = self.done / self.total * 100 if self.total else 100.0
            done += f" / {self.total:,} {self.unit} ({share:.1f}%)"
        else:
            done += f" {self.unit}"
        rates = f"{self.overall_rate(now):,.0f}/s overall"
        if self._last_rate is not None:
            rates = f"{self._last_rate:,.0f}/s now, " + rates
        eta = self.eta_seconds(now)
        tail = f", ETA {_duration(eta)}" if eta is not None and self.done < (self.total or 0) else ""
        return f"{self.label}: {done}, {rates}{tail}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
            return
        now = self.clock()
        if not self._printed and now - self._started < self.interval:
            return
        self._print(f"{self.label}: done, {self.done:,} {self.unit} in {_duration(now - self._started)} "
                    f"({self.overall_rate(now):,.0f}/s)")

    def _print(self, text: str) -> None:
        self._printed = True
        print(text, file=self.stream, flush=True)


def _configured_interval() -> float:
    from patrol.settings import Settings

    return Settings().progress_interval


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _RichBar:
    """The terminal form: description, bar, count, rate, ETA, on `stream` (stderr)."""

    def __init__(self, label: str, total: int | None, unit: str, stream):
        from rich.console import Console
        from rich.progress import (
            BarColumn, MofNCompleteColumn, Progress as RichProgress, TaskProgressColumn, TextColumn,
            TimeElapsedColumn, TimeRemainingColumn,
        )

        self._progress = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=stream), transient=False)
        self._unit = unit
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, rate="")

    def set_total(self, total: int | None) -> None:
        self._progress.update(self._task, total=total)

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)
        speed = self._progress.tasks[0].speed
        if speed:
            self._progress.update(self._task, rate=f"{speed:,.0f} {self._unit}/s")

    def close(self) -> None:
        self._progress.stop()


def count_lines(path) -> int | None:
    """Lines in a regular file (the total of a JSONL command), read in large blocks: about a
    second per GB. None for stdin or anything that is not a regular file."""
    from pathlib import Path

    if path is None or str(path) == "-":
        return None
    p = Path(path)
    if not p.is_file():
        return None
    n, last = 0, b"\n"
    with open(p, "rb") as f:
        while block := f.read(1 << 22):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")
