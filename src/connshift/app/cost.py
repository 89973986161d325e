"""``connshift cost``: the estate's monthly cost, current model vs destination model.

Reads the inventory the evidence store holds (``connshift inventory`` records it), a
pricing profile (``--profile``, else ``readiness.cost.profile``, else the shipped
``resources/pricing/default.yaml``), prices both models with :mod:`connshift.core.cost`
and records the result as ``cost`` evidence.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connshift.core.cost import CostReport, PricingProfile, compute
from connshift.core.spec import Spec, format_key_path
from connshift.errors import ConfigError, UsageError
from connshift.io.evidence import EvidenceStore, Warn, try_record_evidence

DEFAULT_PROFILE = "resources/pricing/default.yaml"
_PROFILE_FIX = "every figure is {value, unit, source}; start from the shipped profile"


def default_profile_text() -> str:
    """The shipped pricing profile (package data)."""
    return (resources.files("connshift") / DEFAULT_PROFILE).read_text(encoding="utf-8")


def parse_profile(text: str, origin: str) -> PricingProfile:
    """Validate a pricing profile; every problem is one :class:`ConfigError` naming the key."""
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{origin}: not valid YAML{where}",
            why=getattr(exc, "problem", None) or type(exc).__name__,
            fix="fix the YAML syntax",
            file=origin,
        ) from None
    if not isinstance(tree, dict):
        raise ConfigError(
            f"{origin}: a pricing profile is a mapping (name, currency, prices, assumptions)",
            fix=_PROFILE_FIX,
            file=origin,
        )
    try:
        return PricingProfile.model_validate(tree)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        loc = tuple(first["loc"])
        if first["type"] == "extra_forbidden":
            problem = "unknown key"
        elif first["type"] == "missing":
            problem = "required key is missing"
        else:
            msg = first["msg"].removeprefix("Value error, ")
            problem = msg[:1].lower() + msg[1:]
        key = format_key_path(loc)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"{origin}: {key}: {problem}{more}", fix=_PROFILE_FIX, file=origin, key=key
        ) from None


def load_profile(spec: Spec, override: Path | None = None) -> tuple[PricingProfile, str]:
    """The pricing profile to use and where it came from: ``override`` (``--profile``),
    else the spec's ``readiness.cost.profile``, else the shipped default."""
    chosen = override if override is not None else spec.readiness.cost.profile
    if chosen is None:
        return parse_profile(default_profile_text(), DEFAULT_PROFILE), DEFAULT_PROFILE
    path = Path(chosen)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the pricing profile {path}",
            why=exc.strerror or type(exc).__name__,
            fix="check the path (--profile or readiness.cost.profile)",
            file=str(path),
        ) from None
    return parse_profile(text, str(path)), str(path)


def inventory_evidence(spec: Spec) -> tuple[dict[str, Any], str]:
    """The recorded inventory and its path relative to the state directory; refuses when
    there is none."""
    store = EvidenceStore(spec.state_dir, spec_name=spec.name)
    found = store.load("inventory")
    if found is None or not isinstance(found.data.get("topics"), list):
        raise UsageError(
            "no inventory evidence to price",
            why=f"{store.path('inventory')} is missing or unreadable",
            fix="run `connshift inventory` first",
        )
    return found.data, "evidence/inventory.json"


def compute_cost(spec: Spec, *, profile: Path | None = None) -> CostReport:
    """Price the spec's recorded inventory (no evidence is written)."""
    inventory, inventory_path = inventory_evidence(spec)
    pricing, origin = load_profile(spec, profile)
    target = spec.readiness.target
    return compute(
        inventory,
        pricing,
        storage_model=target.storage_model,
        worker_boundary=target.worker_boundary,
        network=target.network,
        owners=spec.readiness.cost.owners,
        profile_path=origin,
        evidence=[inventory_path],
    )


def run_cost(
    spec: Spec, *, profile: Path | None = None, warn: Warn | None = None
) -> dict[str, Any]:
    """``connshift cost``: price the estate and record the result as ``cost`` evidence (an
    unwritable state directory costs the evidence, not the result: one line to ``warn``)."""
    data = compute_cost(spec, profile=profile).to_json()
    try_record_evidence(spec, "cost", data, warn=warn)
    return data
