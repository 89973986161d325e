"""From parsed YAML to a :class:`~connshift.core.spec.models.Spec`: references resolved,
then validated, and remembered for :meth:`~connshift.core.spec.models.Spec.redacted_dict`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connshift.core.spec.models import Spec
from connshift.core.spec.references import find_references, resolve_references

__all__ = ["parse_spec"]


def parse_spec(
    tree: Any,
    *,
    env: Mapping[str, str],
    read_file: Callable[[str], str],
    base_dir: str | None = None,
    home: str | None = None,
) -> Spec:
    """Resolve references in ``tree`` (parsed YAML) and validate it into a :class:`Spec`.

    Relative paths (TLS files, ``state_dir``) are anchored at ``base_dir`` and a leading
    ``~`` is expanded with ``home``, when given.
    Raises :class:`ConfigError` for a bad reference and :class:`pydantic.ValidationError`
    for a bad spec (``connshift.app.config`` turns that into one ``ConfigError`` line).
    """
    references = find_references(tree)
    resolved = resolve_references(tree, env, read_file)
    spec = Spec.model_validate(resolved, context={"base_dir": base_dir, "home": home})
    spec._remember_references(tree, references)
    return spec
