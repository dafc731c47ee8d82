"""Progress display for long runs: tqdm when installed, a plain line otherwise.

Nothing is shown for runs that finish within ``delay`` seconds.
"""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """Callable ``progress(done, total)`` handed to the engine."""

    def __init__(self, desc: str = "simulating", delay: float = 1.0, unit: str = "paths") -> None:
        self.desc = desc
        self.delay = delay
        self.unit = unit
        self.t0 = time.perf_counter()
        self._bar: Any = None
        self._plain = False
        self._step = 1
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None and not self._plain:
            if time.perf_counter() - self.t0 < self.delay or done >= total:
                return
            try:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, unit_scale=True)
            except ImportError:
                # a line rewritten in place on a terminal; in a log (stderr not
                # a terminal) one line per quarter, so that logs do not fill up
                self._plain = True
                self._step = 1 if _is_terminal(sys.stderr) else 25
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if done >= total:
                self._bar.close()
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


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
