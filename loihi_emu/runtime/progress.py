"""A dependency-free progress bar for long runs (written to stderr)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints ``[#####.....]  k/N steps  rate`` at most ~10 times a second."""

    def __init__(self, total: int, enabled: bool = True, label: str = "steps", stream: TextIO | None = None) -> None:
        self.total = max(int(total), 0)
        self.enabled = enabled and self.total > 0
        self.label = label
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._shown = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done == self._shown or (done < self.total and now - self._last < 0.1):
            return
        self._last, self._shown = now, done
        width = 30
        fill = int(width * done / self.total)
        rate = done / max(now - self.t0, 1e-9)
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} {self.label} ({rate:,.0f}/s)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()
