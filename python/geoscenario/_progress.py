"""Progress display for long runs: tqdm when installed, a plain line otherwise.

Nothing is shown for runs that finish within ``delay`` seconds.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import invalid


def check(progress: Any) -> None:
    """Refuse a ``progress`` argument other than ``"auto"``, ``True`` or ``False``
    (a NumPy bool counts as a bool; ``1`` and ``0``, equal to them, do not)."""
    if not (isinstance(progress, (bool, np.bool_)) or (isinstance(progress, str) and progress == "auto")):
        raise invalid("progress", f"must be 'auto', True or False, got {progress!r}")


def display(
    progress: bool | str, desc: str = "simulating", unit: str = "paths", open_ended: bool = False
) -> Progress | None:
    """The display a ``progress`` argument asks for: ``"auto"`` for runs longer than
    a second, ``True`` always, ``False`` never (None)."""
    check(progress)
    if progress is False or progress is np.False_:
        return None
    return Progress(desc, delay=1.0 if progress == "auto" else 0.0, unit=unit, open_ended=open_ended)


@contextlib.contextmanager
def guard(display: Progress | None) -> Iterator[Progress | None]:
    """``with guard(display(...)) as cb:`` around the call that reports to ``cb``: if the
    call raises (Ctrl-C included), the display is closed first, so that the traceback
    does not start on the progress line."""
    try:
        yield display
    except BaseException:
        if display is not None:
            display.abort()
        raise


class Progress:
    """Callable ``progress(done, total)`` handed to the engine.

    With ``open_ended=True`` the total is only a limit (Newton iterations up to
    ``max_iter``): the display counts what is done, without a percentage, the
    engine's closing ``(total, total)`` call is ignored, and :meth:`finish`
    closes the display at the final count.

    The display never fails the computation: if it cannot draw (no stderr, a closed
    one, a broken notebook widget) it turns itself off. Ctrl-C still goes through.
    """

    def __init__(self, desc: str = "simulating", delay: float = 1.0, unit: str = "paths", open_ended: bool = False) -> None:
        self.desc = desc
        self.delay = delay
        self.unit = unit
        self.open_ended = open_ended
        self.t0 = time.perf_counter()
        self._bar: Any = None
        self._plain = False
        self._step = 1
        self._last = -1
        self._open = False  # a plain line on a terminal not ended yet
        self._off = False

    def __call__(self, done: int, total: int) -> None:
        if self._off:
            return
        try:
            self._show(done, total)
        except Exception:  # a display that cannot draw turns itself off
            self._off = True

    def _show(self, done: int, total: int) -> None:
        if self.open_ended and done >= total:
            return
        if self._bar is None and not self._plain:
            # "auto" shows nothing for a run that ends before its delay; True shows even that
            if time.perf_counter() - self.t0 < self.delay or (done >= total and self.delay > 0):
                return
            self._start(total)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if done >= total:
                self._bar.close()
        elif self._plain and self.open_ended:
            if done != self._last:
                self._count_line(done, end=False)
        elif self._plain:
            pct = int(100 * done / max(total, 1))
            step = self._step
            if pct // step != self._last // step or self._last < 0:
                self._last = pct
                text = f"{self.desc}: {pct:3d}% ({done:,}/{total:,} {self.unit})"
                self._write(text, end=done >= total)

    def _start(self, total: int) -> None:
        try:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=None if self.open_ended else total, desc=self.desc, unit=self.unit, unit_scale=True)
        except ImportError:
            # a line rewritten in place on a terminal; in a log (stderr not
            # a terminal) one line per quarter, so that logs do not fill up
            self._plain = True
            self._step = 1 if _is_terminal(sys.stderr) else 25

    def _write(self, text: str, end: bool) -> None:
        """A plain line: rewritten in place on a terminal (ended with ``end``), one line
        per call in a log."""
        if self._step == 1:
            sys.stderr.write("\r" + text + ("\n" if end else ""))
            self._open = not end
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def abort(self) -> None:
        """Close the display of a call that raised: the bar, or the open line."""
        try:
            if self._bar is not None:
                self._bar.close()
            elif self._open:
                sys.stderr.write("\n")
                sys.stderr.flush()
        except Exception:
            pass
        self._off, self._open = True, False

    def finish(self, done: int) -> None:
        """Close an open-ended display at the final count (with ``progress="auto"``,
        nothing if none was shown; with ``True``, the count even of a quick run)."""
        if self._off:
            return
        try:
            self._finish(done)
        except Exception:
            self._off = True

    def _finish(self, done: int) -> None:
        if self._bar is None and not self._plain and self.delay == 0:
            self._start(done)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            self._bar.close()
        elif self._plain and (self._step == 1 or done != self._last):  # a log repeats no count
            self._count_line(done, end=True)

    def _count_line(self, done: int, end: bool) -> None:
        """The open-ended plain line: rewritten in place on a terminal, one line per count in a log."""
        self._last = done
        self._write(f"{self.desc}: {done:,} {self.unit} ({time.perf_counter() - self.t0:.0f} s)", end)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
