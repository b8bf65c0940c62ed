"""When to sync next: a steady interval while it works, exponential backoff with jitter while
it fails (so a hundred workstations coming back after an outage do not all call at once), and
at once when the network returns."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

MAX_DELAY = 15 * 60.0


@dataclass
class Backoff:
    interval: float = 60.0
    first_retry: float = 5.0
    cap: float = MAX_DELAY
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def succeeded(self) -> float:
        """Seconds until the next regular sync."""
        self.failures = 0
        return self.interval

    def failed(self) -> float:
        """Seconds until the next attempt: 5 s, 10 s, 20 s … up to the cap, each drawn
        uniformly from the upper half ("equal jitter"), never zero."""
        self.failures += 1
        ceiling = min(self.cap, self.first_retry * 2 ** (self.failures - 1))
        return float(ceiling / 2 + self.rng.uniform(0, ceiling / 2))

    def network_returned(self) -> float:
        """The network is back: try now (with a little jitter), the count starts again."""
        self.failures = 0
        return float(self.rng.uniform(0, 2.0))
