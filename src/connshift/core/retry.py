"""Waiting out transient failures: exponential backoff, bounded in time.

Pure: the clock is injected. A follower (``sync --follow``, a cutover's catch-up) calls
:meth:`Outages.failed` when a try fails for a reason that may pass (a broker restarting,
a leader moving, a connection lost) and sleeps the delay it returns; ``None`` means the
outage has lasted longer than allowed and the caller gives up.
:meth:`Outages.recovered` after a try that worked closes the outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Outages:
    """The failures of one run, grouped into outages (failures with no success between)."""

    #: give up when one outage has lasted this long (seconds)
    give_up_after: float
    first_delay: float = 0.5
    longest_delay: float = 10.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    #: when the current outage began (None: none is going on)
    started: float | None = None
    #: failures in the current outage
    attempts: int = 0
    #: failures over the whole run, and outages over the whole run
    retries: int = 0
    count: int = 0

    def failed(self) -> float | None:
        """Count a failed try; the seconds to wait before the next, or None to give up."""
        now = self.clock()
        if self.started is None:
            self.started, self.attempts = now, 0
            self.count += 1
        left = self.started + self.give_up_after - now
        if left <= 0:
            return None
        delay = min(self.longest_delay, self.first_delay * 2.0**self.attempts)
        self.attempts += 1
        self.retries += 1
        return min(delay, left)

    @property
    def first(self) -> bool:
        """Whether the last failure began an outage (say so once, not on every retry)."""
        return self.attempts == 1

    def lasted(self) -> float:
        """How long the current outage has lasted (0 when there is none)."""
        return 0.0 if self.started is None else self.clock() - self.started

    def recovered(self) -> float | None:
        """Count a try that worked: how long the outage it ends lasted (None: no outage)."""
        if self.started is None:
            return None
        lasted = self.clock() - self.started
        self.started, self.attempts = None, 0
        return lasted
