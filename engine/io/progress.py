"""A progress line on a terminal: records done, rate and time left.

It appears only when the stream is a terminal and the run has lasted a second, and it
clears itself at the end; elsewhere (pipes, files, `--quiet`) it writes nothing.
"""

from __future__ import annotations

import time
from typing import TextIO

DELAY, EVERY = 1.0, 0.2  # seconds before the first line, and between lines


class Progress:
    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream, self.enabled = stream, enabled and stream.isatty()
        self.start = self.last = time.monotonic()
        self.count, self.fraction, self.drawn = 0, 0.0, False

    def read(self, fraction: float) -> None:
        """How much of the input has been read, 0 to 1."""
        self.fraction = min(1.0, max(0.0, fraction))

    def done(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled or self.count % 256:
            return
        now = time.monotonic()
        if now - self.start >= DELAY and now - self.last >= EVERY:
            self.last = now
            self.draw(now - self.start)

    def draw(self, elapsed: float) -> None:
        rate = self.count / elapsed if elapsed else 0.0
        line = f"{self.count:,} records · {rate:,.0f}/s"
        if self.fraction > 0.01:
            left = elapsed * (1 - self.fraction) / self.fraction
            line += f" · {int(left) // 60}:{int(left) % 60:02d} left"
        self.stream.write("\r" + line.ljust(60))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
