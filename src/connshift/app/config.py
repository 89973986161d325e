"""Load, check and create the migration spec (``connshift.yaml``).

This is the I/O side of :mod:`connshift.core.spec`: it reads the YAML file, the
environment and ``${file:...}`` secret files, and turns every problem into one
:class:`~connshift.errors.ConfigError` line (exit code 2) that names the file, the key
and what is wrong, without ever showing a secret.
"""

from __future__ import annotations

import difflib
import os
import tempfile
import types
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from connshift.core.spec import Spec, SpecValueError, format_key_path, parse_spec
from connshift.errors import ConfigError

__all__ = [
    "DEFAULT_SPEC_PATH",
    "load_spec",
    "parse_spec_text",
    "template_text",
    "write_template",
]

DEFAULT_SPEC_PATH = Path("connshift.yaml")
"""Where commands look for the spec when ``-c/--config`` is not given."""

_TEMPLATE_FIX = "see the commented template `connshift init` writes"


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key written twice in one mapping."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key; let the constructor report it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def template_text() -> str:
    """The commented template ``connshift init`` writes (package data)."""
    resource = resources.files("connshift") / "resources" / "connshift.template.yaml"
    return resource.read_text(encoding="utf-8")


def _parse_yaml(text: str, origin: str) -> Any:
    try:
        # a SafeLoader subclass: builds plain data only
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{origin}: not valid YAML{where}",
            why=exc.problem or exc.context,
            fix="fix the YAML syntax (indentation, quoting, ':' after each key)",
            file=origin,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{origin}: not valid YAML", why=type(exc).__name__, file=origin
        ) from None


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (through ``Annotated``/``| None``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _unwrap_model(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model at ``loc`` accepts (empty when ``loc`` is not a model)."""
    model: type[BaseModel] | None = Spec
    for part in loc:
        if model is None or not isinstance(part, str):
            return []
        field = next(
            (f for name, f in model.model_fields.items() if (f.alias or name) == part), None
        )
        model = None if field is None else _unwrap_model(field.annotation)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _describe(error: ErrorDetails) -> tuple[tuple[str | int, ...], str, str]:
    """``(key path, problem, fix)`` for one pydantic error, without the input value."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            problem = f"unknown key (did you mean {close[0]!r}?)"
        elif known:
            problem = f"unknown key (known here: {', '.join(known)})"
        else:
            problem = "unknown key"
        return loc, problem, f"remove it or fix its spelling; {_TEMPLATE_FIX}"
    if kind == "missing":
        return loc, "required key is missing", f"add it; {_TEMPLATE_FIX}"
    cause = ctx.get("error")
    if kind == "value_error" and isinstance(cause, ValueError):
        if isinstance(cause, SpecValueError):
            loc = (*loc, *cause.key)
        return loc, str(cause), f"fix the value; {_TEMPLATE_FIX}"
    if kind == "literal_error":
        return loc, f"must be one of {ctx.get('expected')}", f"fix the value; {_TEMPLATE_FIX}"
    simple = {
        "string_type": "must be a string (quote it in YAML)",
        "dict_type": "must be a mapping of keys",
        "model_type": "must be a mapping of keys",
        "model_attributes_type": "must be a mapping of keys",
        "list_type": "must be a list",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
    }
    if kind in simple:
        return loc, simple[kind], f"fix the value; {_TEMPLATE_FIX}"
    message = error["msg"]
    return loc, message[:1].lower() + message[1:], f"fix the value; {_TEMPLATE_FIX}"


def _config_error(exc: ValidationError, origin: str) -> ConfigError:
    errors = exc.errors(include_url=False, include_input=False)
    # An unknown key first: a misspelt key also shows up as a missing one.
    errors.sort(key=lambda error: error["type"] != "extra_forbidden")
    loc, problem, fix = _describe(errors[0])
    key = format_key_path(loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{origin}: {key}: {problem}{more}", fix=fix, file=origin, key=key)


def parse_spec_text(
    text: str,
    *,
    origin: str = "<spec>",
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Spec:
    """Parse and validate spec ``text``; ``origin`` names it in errors.

    ``env`` defaults to ``os.environ``. ``${file:...}`` paths and relative TLS paths and
    ``state_dir`` are taken relative to ``base_dir`` (default: the current directory).
    Raises :class:`ConfigError` (one line: origin, key path, problem).
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    base = Path.cwd() if base_dir is None else base_dir

    def read_file(name: str) -> str:
        path = Path(name).expanduser()
        return (path if path.is_absolute() else base / path).read_text(encoding="utf-8")

    tree = _parse_yaml(text, origin)
    if tree is None:
        raise ConfigError(
            f"{origin}: the spec is empty", fix="start from `connshift init`", file=origin
        )
    if not isinstance(tree, dict):
        raise ConfigError(
            f"{origin}: the spec must be a mapping of keys (version, source, destination, ...)",
            fix=_TEMPLATE_FIX,
            file=origin,
        )
    try:
        return parse_spec(
            tree, env=environ, read_file=read_file, base_dir=str(base), home=str(Path.home())
        )
    except ValidationError as exc:
        raise _config_error(exc, origin) from None
    except ConfigError as exc:
        raise ConfigError(
            f"{origin}: {exc.what}", why=exc.why, fix=exc.fix, **{**exc.context, "file": origin}
        ) from exc


def load_spec(path: Path, *, env: Mapping[str, str] | None = None) -> Spec:
    """Read, resolve and validate the spec file at ``path``.

    Secret references are resolved from ``env`` (default ``os.environ``) and from files
    relative to the spec's folder. Every problem raises one :class:`ConfigError` (exit 2).
    """
    origin = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"spec file not found: {origin}",
            fix="create one with `connshift init` or pass -c",
            file=origin,
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"spec path is a directory: {origin}", fix="pass the YAML file with -c", file=origin
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{origin}: not UTF-8 text", fix="save the spec as UTF-8", file=origin
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read spec file {origin}",
            why=exc.strerror or type(exc).__name__,
            fix="check the path and its permissions",
            file=origin,
        ) from None
    return parse_spec_text(text, origin=origin, env=env, base_dir=path.absolute().parent)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_template(path: Path, force: bool = False) -> Path:
    """Write the commented spec template to ``path`` atomically and return ``path``.

    Refuses (:class:`ConfigError`) to replace an existing file unless ``force``.
    """
    origin = str(path)
    if path.is_dir():
        raise ConfigError(
            f"{origin} is a directory", fix="pass a file name, e.g. -c connshift.yaml", file=origin
        )
    if path.exists() and not force:
        raise ConfigError(
            f"{origin} already exists",
            fix="pass --force to overwrite it, or choose another path",
            file=origin,
        )
    try:
        _write_atomic(path, template_text())
    except OSError as exc:
        raise ConfigError(
            f"cannot write {origin}",
            why=exc.strerror or type(exc).__name__,
            fix="check the folder exists and is writable",
            file=origin,
        ) from None
    return path
