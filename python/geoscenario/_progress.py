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
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None and not self._plain:
            if time.perf_counter() - self.t0 < self.delay or done >= total:
                return
            try:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, unit_scale=True)
            except ImportError:
                self._plain = True
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if done >= total:
                self._bar.close()
        elif self._plain:
            pct = int(100 * done / max(total, 1))
            if pct != self._last:
                self._last = pct
                end = "\n" if done >= total else ""
                sys.stderr.write(f"\r{self.desc}: {pct:3d}% ({done:,}/{total:,} {self.unit})" + end)
                sys.stderr.flush()
