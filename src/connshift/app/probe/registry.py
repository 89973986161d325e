"""The probe's checks, registered by id: ``@check("records.delete")`` on a function of a
:class:`~connshift.app.probe.context.ProbeContext` that returns a
:class:`~connshift.core.checks.CheckResult`.

:data:`REGISTRY` is ordered by the catalogue :data:`~connshift.core.probe.CHECK_IDS` (the
order the checks run in and the matrix lists them): registering an id the catalogue does not
list, or an id twice, is an error at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connshift.core.checks import CheckResult
from connshift.core.probe import CHECK_IDS

if TYPE_CHECKING:
    from connshift.app.probe.context import ProbeContext

CheckFunction = Callable[["ProbeContext"], CheckResult]

__all__ = ["REGISTRY", "Check", "CheckFunction", "Registry", "check"]


@dataclass(frozen=True)
class Check:
    """One registered check: its id and the function that runs it."""

    id: str
    run: CheckFunction


class Registry:
    """Checks by id. With ``order``, only those ids may be registered and :meth:`checks`
    returns them in that order (all of them, or it raises); without, in registration order.
    """

    def __init__(self, order: Iterable[str] | None = None) -> None:
        self.order: tuple[str, ...] | None = None if order is None else tuple(order)
        self._checks: dict[str, Check] = {}

    def check(self, check_id: str) -> Callable[[CheckFunction], CheckFunction]:
        """Decorator: register the function as check ``check_id`` (the function is returned
        unchanged)."""

        def register(fn: CheckFunction) -> CheckFunction:
            if check_id in self._checks:
                raise ValueError(f"probe check {check_id!r} is registered twice")
            if self.order is not None and check_id not in self.order:
                raise ValueError(f"probe check {check_id!r} is not in the catalogue")
            self._checks[check_id] = Check(check_id, fn)
            return fn

        return register

    def get(self, check_id: str) -> Check:
        """The check registered as ``check_id`` (KeyError when none is)."""
        return self._checks[check_id]

    def ids(self) -> list[str]:
        """The registered ids, in registration order."""
        return list(self._checks)

    def checks(self) -> list[Check]:
        """Every check, in the order they run."""
        if self.order is None:
            return list(self._checks.values())
        missing = [cid for cid in self.order if cid not in self._checks]
        if missing:
            raise LookupError(f"no function registered for probe check(s) {', '.join(missing)}")
        return [self._checks[cid] for cid in self.order]


#: The probe's checks (registered by the modules of :mod:`connshift.app.probe.checks`).
REGISTRY = Registry(CHECK_IDS)

#: ``@check("id")``: register a function in :data:`REGISTRY`.
check = REGISTRY.check
