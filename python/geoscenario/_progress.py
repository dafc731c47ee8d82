"""Progress display for long runs: tqdm when installed, a plain line otherwise.

Nothing is shown for runs that finish within ``delay`` seconds.
"""

from __future__ import annotations

import sys
import time
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


class Progress:
    """Callable ``progress(done, total)`` handed to the engine.

    With ``open_ended=True`` the total is only a limit (Newton iterations up to
    ``max_iter``): the display counts what is done, without a percentage, the
    engine's closing ``(total, total)`` call is ignored, and :meth:`finish`
    closes the display at the final count.
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

    def __call__(self, done: int, total: int) -> None:
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
                if step == 1:
                    sys.stderr.write("\r" + text + ("\n" if done >= total else ""))
                else:
                    sys.stderr.write(text + "\n")
                sys.stderr.flush()

    def _start(self, total: int) -> None:
        try:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=None if self.open_ended else total, desc=self.desc, unit=self.unit, unit_scale=True)
        except ImportError:
            # a line rewritten in place on a terminal; in a log (stderr not
            # a terminal) one line per quarter, so that logs do not fill up
            self._plain = True
            self._step = 1 if _is_terminal(sys.stderr) else 25

    def finish(self, done: int) -> None:
        """Close an open-ended display at the final count (with ``progress="auto"``,
        nothing if none was shown; with ``True``, the count even of a quick run)."""
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
        text = f"{self.desc}: {done:,} {self.unit} ({time.perf_counter() - self.t0:.0f} s)"
        if self._step == 1:
            sys.stderr.write("\r" + text + ("\n" if end else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
