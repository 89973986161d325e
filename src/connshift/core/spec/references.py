"""``${env:NAME}`` / ``${file:PATH:KEY}`` / ``${file:PATH}`` references in a spec tree: finding
them and resolving them.

Pure: the environment and the file reader are handed in (:mod:`connshift.app.config` does
the I/O). ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import Any

import yaml

from connshift.core.spec.models import KeyPath, format_key_path
from connshift.core.spec.properties import parse_properties
from connshift.errors import ConfigError

__all__ = ["find_references", "resolve_references"]

_TOKEN = re.compile(r"\$\$\{|\$\{([^{}]*)\}|\$\{")
_FIX_REFERENCE = "write ${env:NAME}, ${file:PATH:KEY} or ${file:PATH} (and $${ for a literal ${)"


def _references_in(text: str) -> Iterator[re.Match[str]]:
    return (m for m in _TOKEN.finditer(text) if m.group(0) != "$${")


def find_references(tree: Any, path: KeyPath = ()) -> dict[KeyPath, str]:
    """Every string in ``tree`` that contains a ``${...}`` reference, by key path."""
    found: dict[KeyPath, str] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            found.update(find_references(value, (*path, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.update(find_references(value, (*path, index)))
    elif isinstance(tree, str) and any(True for _ in _references_in(tree)):
        found[path] = tree
    return found


class _Resolver:
    def __init__(self, env: Mapping[str, str], read_file: Callable[[str], str]) -> None:
        self.env = env
        self.read_file = read_file
        self.texts: dict[str, str] = {}
        self.tables: dict[str, Mapping[str, Any]] = {}

    def walk(self, tree: Any, path: KeyPath) -> Any:
        if isinstance(tree, Mapping):
            return {k: self.walk(v, (*path, k)) for k, v in tree.items()}
        if isinstance(tree, list):
            return [self.walk(v, (*path, i)) for i, v in enumerate(tree)]
        if isinstance(tree, str):
            return self.substitute(tree, path)
        return tree

    def substitute(self, text: str, path: KeyPath) -> str:
        if "${" not in text:
            return text
        out: list[str] = []
        pos = 0
        for match in _TOKEN.finditer(text):
            out.append(text[pos : match.start()])
            pos = match.end()
            if match.group(0) == "$${":
                out.append("${")
            elif match.group(1) is None:
                raise self.error(path, "has an unterminated ${ reference", fix=_FIX_REFERENCE)
            else:
                out.append(self.lookup(match.group(1), path))
        out.append(text[pos:])
        return "".join(out)

    @staticmethod
    def error(path: KeyPath, problem: str, *, fix: str, why: str | None = None) -> ConfigError:
        key = format_key_path(path)
        return ConfigError(f"{key}: {problem}", why=why, fix=fix, key=key)

    def lookup(self, body: str, path: KeyPath) -> str:
        provider, colon, argument = body.partition(":")
        provider = provider.strip()
        if not colon:
            raise self.error(path, f"malformed reference ${{{body}}}", fix=_FIX_REFERENCE)
        if provider == "env":
            return self.lookup_env(argument.strip(), path)
        if provider == "file":
            return self.lookup_file(argument, path)
        raise self.error(
            path, f"unknown reference provider {provider!r} in ${{{body}}}", fix=_FIX_REFERENCE
        )

    def lookup_env(self, name: str, path: KeyPath) -> str:
        if not name:
            raise self.error(path, "empty variable name in ${env:}", fix=_FIX_REFERENCE)
        if name not in self.env:
            raise self.error(
                path,
                f"environment variable {name} is not set",
                fix=f"export {name} before running connshift, or change the reference",
            )
        return self.env[name]

    def lookup_file(self, argument: str, path: KeyPath) -> str:
        file_path, colon, key = argument.rpartition(":")
        if not colon:
            file_path, key = argument, ""
            whole = True
        else:
            whole = False
        file_path = file_path.strip()
        if not file_path:
            raise self.error(path, "empty file path in ${file:...}", fix=_FIX_REFERENCE)
        if whole:
            return self.text(file_path, path).strip()
        key = key.strip()
        if not key:
            raise self.error(path, f"empty key in ${{file:{argument}}}", fix=_FIX_REFERENCE)
        table = self.table(file_path, path)
        value = _lookup_key(table, key)
        if value is None:
            raise self.error(
                path,
                f"key {key!r} not found in {file_path}",
                fix="check the key name and the file",
            )
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise self.error(
            path, f"key {key!r} in {file_path} is not a text value", fix="point at a scalar"
        )

    def text(self, file_path: str, path: KeyPath) -> str:
        if file_path not in self.texts:
            try:
                self.texts[file_path] = self.read_file(file_path)
            except UnicodeError:
                raise self.error(
                    path, f"cannot read {file_path}", why="not UTF-8 text", fix="check the file"
                ) from None
            except OSError as exc:
                raise self.error(
                    path,
                    f"cannot read {file_path}",
                    why=exc.strerror or type(exc).__name__,
                    fix="check the path (relative paths start at the spec file's folder)",
                ) from None
        return self.texts[file_path]

    def table(self, file_path: str, path: KeyPath) -> Mapping[str, Any]:
        if file_path in self.tables:
            return self.tables[file_path]
        text = self.text(file_path, path)
        suffix = PurePath(file_path).suffix.lower()
        parsed: Any
        try:
            if suffix == ".json":
                parsed = json.loads(text)
            elif suffix in (".yaml", ".yml"):
                parsed = yaml.safe_load(text)
            else:
                parsed = parse_properties(text)
        except json.JSONDecodeError as exc:
            raise self.error(
                path, f"{file_path} is not valid JSON (line {exc.lineno})", fix="fix the file"
            ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise self.error(
                path, f"{file_path} is not valid YAML{where}", fix="fix the file"
            ) from None
        if not isinstance(parsed, Mapping):
            raise self.error(
                path,
                f"{file_path} does not hold key/value pairs",
                fix="use a .properties, .json or .yaml file with a mapping at the top",
            )
        self.tables[file_path] = parsed
        return parsed


def _lookup_key(table: Mapping[str, Any], key: str) -> Any:
    """``key`` in ``table``: an exact key first, then a dotted walk into nested mappings."""
    if key in table:
        return table[key]
    node: Any = table
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def resolve_references(tree: Any, env: Mapping[str, str], read_file: Callable[[str], str]) -> Any:
    """Return a copy of ``tree`` with every ``${env:NAME}`` / ``${file:PATH:KEY}`` /
    ``${file:PATH}`` in its string values replaced; ``$${`` becomes a literal ``${``.

    ``read_file(path)`` returns a file's text (raising ``OSError`` when it cannot). A
    ``${file:PATH:KEY}`` file is parsed by suffix: ``.json``, ``.yaml``/``.yml``, else Java
    properties; KEY is the text after the last ``:``. ``${file:PATH}`` is the whole file,
    stripped. Raises :class:`ConfigError` naming the key path (and the variable or file,
    never a value) for an unknown provider, a missing variable, file or key.
    """
    return _Resolver(env, read_file).walk(tree, ())
