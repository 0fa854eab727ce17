"""Typed configuration: pydantic models loaded from YAML, with ``dotted.key=value`` overrides.

Overrides are parsed as YAML scalars (``n=3`` is an int, ``hints=[a,b]`` a list), so the command
line and config files speak the same language. Validation errors name the file (or ``--set``) and
the field. Every config model derives from :class:`Config`, which refuses unknown keys and names
the nearest valid one, so a typo never runs on defaults.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import ConfigError

C = TypeVar("C", bound=BaseModel)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_QUERY_SECRETS = re.compile(r"(?P<name>[?&](?:api[_-]?key|key|token|access_token|password|secret)=)[^&\s]+", re.I)


class Config(BaseModel):
    """Base of every configuration model: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return ``data`` with each ``a.b.c=value`` override set (YAML-parsed value)."""
    out = dict(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = out
        *parents, leaf = key.strip().split(".")
        for p in parents:
            child = node.get(p)
            node[p] = dict(child) if isinstance(child, dict) else {}
            node = node[p]
        node[leaf] = value
    return out


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``, merging nested mappings instead of replacing them."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_config(model: type[C], path: str | Path | None = None, overrides: Sequence[str] = (),
                base: dict[str, Any] | None = None, updates: dict[str, Any] | None = None) -> C:
    """Build ``model`` from ``base``, then the YAML file at ``path``, then ``updates`` (a nested
    dict of Python values, as cells pass them), then ``overrides`` (``key=value`` strings)."""
    data = dict(base or {})
    if path is not None:
        data = deep_merge(data, load_yaml(path))
    data = apply_overrides(deep_merge(data, updates or {}), overrides)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        where = _source(field, path, overrides, updates or {})
        if first["type"] == "extra_forbidden":
            nearest = _nearest_key(model, [str(x) for x in first["loc"]])
            hint = f" (did you mean {nearest!r}?)" if nearest else ""
            raise ConfigError(f"{where}: unknown key {field!r}{hint}") from None
        raise ConfigError(f"{where}: field {field!r}: {first['msg']}") from None


def _source(field: str, path: str | Path | None, overrides: Sequence[str], updates: dict[str, Any]) -> str:
    """Where ``field`` was set: ``--set`` if an override set it (or a key above it), ``updates`` if
    the updates did, else the file."""
    def set_by(keys: set[str]) -> bool:
        return any(field == key or field.startswith(key + ".") for key in keys)

    if set_by({item.split("=", 1)[0].strip() for item in overrides}):
        return "--set"
    if set_by(set(_dotted_keys(updates))):
        return "updates"
    return str(path) if path else "config"


def _dotted_keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    """``{"a": {"b": 1}}`` -> ``["a.b"]``: the dotted keys of a nested mapping's leaves."""
    keys = []
    for key, value in data.items():
        keys += _dotted_keys(value, f"{prefix}{key}.") if isinstance(value, dict) and value else [f"{prefix}{key}"]
    return keys


def _nearest_key(model: type[BaseModel], loc: list[str]) -> str | None:
    """The valid dotted key closest to the unknown one at ``loc`` (same parents), if any is close."""
    *parents, unknown = loc
    for name in parents:
        field = model.model_fields.get(name)
        sub = _model_in(field.annotation) if field else None
        if sub is None:
            return None
        model = sub
    close = difflib.get_close_matches(unknown, list(model.model_fields), n=1, cutoff=0.6)
    return ".".join([*parents, close[0]]) if close else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The config model an annotation holds (``Sub``, ``Sub | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next((m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None), None)
    return None


def dump_config(config: BaseModel) -> str:
    """``config`` as YAML, with secrets in URLs redacted (it is written next to the run's results)."""
    return redact(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))


def redact(text: str) -> str:
    """``text`` with credentials in URLs (``https://user:key@host``, ``?api_key=...``) replaced by ``***``."""
    return _QUERY_SECRETS.sub(r"\g<name>***", _URL_CREDENTIALS.sub(r"\g<scheme>***@", text))
