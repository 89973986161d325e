"""Backoff and the bound on one outage (fake clock)."""

from __future__ import annotations

from connshift.core.retry import Outages


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_up_to_the_longest_delay_then_gives_up_at_the_bound() -> None:
    clock = Clock()
    o = Outages(give_up_after=30.0, first_delay=1.0, longest_delay=8.0, clock=clock)
    delays = []
    while (d := o.failed()) is not None:
        delays.append(d)
        clock.now += d
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 7.0]  # the last one stops at the bound
    assert sum(delays) == 30.0 and o.retries == 6 and o.count == 1


def test_a_success_ends_the_outage_and_the_next_failure_starts_a_new_one() -> None:
    clock = Clock()
    o = Outages(give_up_after=10.0, first_delay=0.5, clock=clock)
    assert o.recovered() is None  # nothing to end
    assert o.failed() == 0.5 and o.first
    clock.now += 0.5
    assert o.failed() == 1.0 and not o.first
    clock.now += 3.0
    assert o.recovered() == 3.5
    clock.now += 100.0  # long after: a new outage gets the whole bound again
    assert o.failed() == 0.5 and o.first
    assert o.count == 2 and o.retries == 3 and o.lasted() == 0.0
