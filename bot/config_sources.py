"""Where settings come from (the YAML file, the environment), and their problems as one line each.

The environment names a setting `CRAFTBOT_SECTION__KEY` and replaces the file's value of it. A
problem's line says where (file:line, or the variable) and what, as in
`config.yaml:17: telegram.admins: expected a list ... (Telegram user ids ...)`. The file's lines
come from the YAML nodes' marks. Values are never repeated back: one of them may be the token.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

ENV_PREFIX = "CRAFTBOT_"
ENV_NESTING = "__"

# pydantic's error types in the words an operator reads; others keep pydantic's own message.
PHRASES = {
    "list_type": "expected a list, such as [1, 2]",
    "dict_type": "expected keys and values",
    "model_type": "expected keys and values",
    "model_attributes_type": "expected keys and values",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "missing": "missing, and it is required",
    "extra_forbidden": "unknown key",
}

Loc = Sequence[str | int]


class ConfigError(Exception):
    """The settings cannot be used: one line per problem, each saying where and what."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def env_name(path: Sequence[str]) -> str:
    """The environment variable that sets the setting at `path`: CRAFTBOT_TELEGRAM__ADMINS."""
    return ENV_PREFIX + ENV_NESTING.join(path).upper()


def env_paths(environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """The settings paths that the environment's CRAFTBOT_ variables name, to their names."""
    return {tuple(name[len(ENV_PREFIX):].lower().split(ENV_NESTING)): name
            for name in environ if name.upper().startswith(ENV_PREFIX)}


def without_overridden(data: dict[str, Any], model: type[BaseModel], environ: Mapping[str, str]) -> None:
    """Drop from the file's data each setting the environment sets, so the variable replaces it whole.

    (Merged instead, a variable's crisis resources would join the file's rather than replace them.)
    """
    for path in env_paths(environ):
        setting = _setting_of(model, path)
        holder: Any = data
        for part in setting[:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if setting and isinstance(holder, dict):
            holder.pop(setting[-1], None)


def _setting_of(model: type[BaseModel], path: tuple[str, ...]) -> tuple[str, ...]:
    """The part of a variable's path that names a setting: sections opened, up to the first value."""
    for depth in range(1, len(path) + 1):
        field = field_at(model, path[:depth])
        if field is None:
            return ()
        if not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return path[:depth]
    return ()


def from_environment(loc: Loc, environ: Mapping[str, str]) -> str | None:
    """The variable that set the setting at `loc` (or a section holding it), if one did."""
    parts = tuple(str(part) for part in loc)
    for path, name in env_paths(environ).items():
        if parts[: len(path)] == path:
            return name
    return None


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for line numbers); a ConfigError if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (config.example.yaml is a documented start)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read it: {exc}"]) from None
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None


def line_of(root: yaml.Node | None, loc: Loc) -> int:
    """The line of the deepest key of `loc` present in the file (1 if none is)."""
    node, line = root, 1 if root is None else root.start_mark.line + 1
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        key, node = found
        line = key.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        pairs = ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part))
        return next(pairs, None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: yaml.Node = node.value[part]
        return item, item
    return None


def describe(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """`telegram.admins: expected a list, ... (what the setting is)` for one pydantic error."""
    loc = error["loc"]
    what = PHRASES.get(error["type"]) or error["msg"].replace("Input should be", "should be")
    if error["type"] == "extra_forbidden" and loc:
        names = list(_fields_of(model, loc[:-1]))
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        what += f"; did you mean {close[0]}?" if close else f"; known here: {', '.join(names)}"
    field = field_at(model, loc)
    if field is not None and field.description and error["type"] != "extra_forbidden":
        what += f" ({field.description})"
    return f"{dotted(loc) or 'the settings'}: {what}"


def dotted(loc: Loc) -> str:
    """`telegram.admins[0]` for ('telegram', 'admins', 0)."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def problems(exc: ValidationError, model: type[BaseModel], source: Path | None, root: yaml.Node | None,
             environ: Mapping[str, str]) -> list[str]:
    """One line per error, at its environment variable or its line in the file, in the file's order."""
    placed = []
    for error in exc.errors():
        variable = from_environment(error["loc"], environ)
        line = 0 if variable else line_of(root, error["loc"])
        where = variable or (f"{source}:{line}" if source else "defaults")
        placed.append((line, f"{where}: {describe(error, model)}"))
    return [text for _, text in sorted(placed, key=lambda item: item[0])]


def unparsable(model: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """Lines for variables whose setting takes a list or mapping but whose value is not JSON."""
    lines = []
    for path, name in env_paths(environ).items():
        field = field_at(model, path)
        if field is None or not _is_complex(field.annotation):
            continue
        try:
            json.loads(environ[name])
        except ValueError:
            example = '[1, 2] or {"key": "value"}'
            lines.append(f"{name}: {'.'.join(path)}: expected JSON here, such as {example}")
    return lines


def field_at(model: type[BaseModel], loc: Loc) -> FieldInfo | None:
    """The field a location names, through sections, mappings of sections and lists."""
    field: FieldInfo | None = None
    annotation: Any = model
    for part in loc:
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif origin in (dict, list):  # a mapping's key or a list's index: go on to the item
            annotation = typing.get_args(annotation)[-1]
        else:
            return None
    return field


def _fields_of(model: type[BaseModel], loc: Loc) -> Sequence[str]:
    if not loc:
        return list(model.model_fields)
    field = field_at(model, loc)
    annotation: Any = field.annotation if field else None
    while typing.get_origin(annotation) in (dict, list):
        annotation = typing.get_args(annotation)[-1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _is_complex(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (dict, list):
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
