"""How models cross the wire: tagged JSON, decoded back into the same models.

A model is a frozen dataclass or, for the few models a command-line start
must load cheaply (the checksum models), a named tuple. Every value is sent
as ``{"t": "<module>:<Class>", "d": {...fields...}}`` for models,
``{"t": "[]", "d": [...]}`` for lists of items, and plain JSON otherwise. Only classes from ``backends`` modules are ever imported by the
decoder. Per-class decoders are compiled once from the type hints, so 100,000
runs decode in a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import types
import typing
from functools import lru_cache
from typing import Any, Callable, ClassVar, Protocol, cast

import orjson

from backends.errors import DriftdeckError, MalformedError
from backends.models import Page

LIST_TAG = "[]"


class _NamedTupleModel(Protocol):
    """What the wire uses of a named-tuple model (``is_model`` tells one apart)."""

    _fields: ClassVar[tuple[str, ...]]

    def _asdict(self) -> dict[str, Any]: ...


def is_model(value: Any) -> bool:
    """Whether ``value`` is a model class or instance: a dataclass or a named tuple."""
    cls = value if isinstance(value, type) else type(value)
    return dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))


def _fields(cls: type) -> tuple[str, ...]:
    """The names a model is built from (keyword arguments of its constructor)."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return cast("type[_NamedTupleModel]", cls)._fields


def _default(value: Any) -> Any:
    if isinstance(value, tuple) and is_model(value):  # a named-tuple model nested in another model
        return cast(_NamedTupleModel, value)._asdict()
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, types.MappingProxyType):
        return dict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def error_body(exc: DriftdeckError, hide: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON body describing an error, readable by ``HttpSource``; the ``hide`` strings (the root) become ``.``."""
    message = str(exc)
    for secret in hide:
        message = message.replace(secret + "/", "").replace(secret, ".")
    return {
        "error": {
            "type": type(exc).__name__,
            "message": message,
            "path": exc.path,
            "line": getattr(exc, "line", None),
            "reason": getattr(exc, "reason", None),
        }
    }


def tag(value: Any) -> Any:
    """The tagged form of ``value`` (model, list of items, or plain JSON)."""
    if not isinstance(value, type) and is_model(value):
        cls = type(value)
        name = f"{cls.__module__}:{cls.__qualname__}"
        if isinstance(value, Page):  # generic items: each carries its own tag
            return {"t": name, "d": {"items": [tag(i) for i in value.items], "next_cursor": value.next_cursor}}
        return {"t": name, "d": cast(_NamedTupleModel, value)._asdict() if isinstance(value, tuple) else value}
    if isinstance(value, list):
        return {"t": LIST_TAG, "d": [tag(item) for item in value]}
    return value


def tag_json(value: Any) -> Any:
    """``tag(value)`` as plain JSON data (nested models turned into dicts)."""
    return orjson.loads(dumps(value))


def dumps(value: Any) -> bytes:
    """Encode one value (tagged) as compact JSON bytes."""
    return encode_json(tag(value))


def encode_json(data: Any) -> bytes:
    """Compact JSON of ``data`` (models inside included), whatever its strings hold.

    A file name that is not UTF-8 is a string with surrogate escapes (PEP 383),
    which orjson refuses (the server answered 500, and a stream ended, for a
    workspace holding one such name). Such data goes through ``json`` with
    ASCII escapes instead (``"caf\\udce9"``): valid JSON, and ``decode_json``
    gives back the very same string, so the name still opens the same file.
    """
    try:
        return orjson.dumps(data, default=_default)
    except orjson.JSONEncodeError:
        return json.dumps(_plain(data), ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def decode_json(data: bytes | str) -> Any:
    """``orjson.loads``, or for JSON with escaped lone surrogates (see ``encode_json``) ``json.loads``.

    Raises:
        orjson.JSONDecodeError: When neither reads it (orjson's error).
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            return json.loads(data)
        except ValueError:
            pass
        raise


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data, the way orjson (with ``_default``) would write it."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dict, types.MappingProxyType)):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple) and is_model(value):
        return {k: _plain(v) for k, v in cast(_NamedTupleModel, value)._asdict().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return _plain(_default(value))


def loads(data: bytes | str) -> Any:
    """Decode what ``dumps`` produced back into models."""
    try:
        raw = decode_json(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedError("response", None, f"invalid JSON from server: {exc}") from None
    return untag(raw)


def untag(raw: Any) -> Any:
    """Inverse of ``tag`` over already-parsed JSON."""
    if isinstance(raw, dict) and set(raw) == {"t", "d"}:
        name = raw["t"]
        if name == LIST_TAG:
            return [untag(item) for item in raw["d"]]
        return decoder_for(resolve_class(name))(raw["d"])
    return raw


@lru_cache(maxsize=None)
def resolve_class(name: str) -> type:
    """The model named ``module:Qualname``, imported only from ``backends``."""
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("backends.") or not qualname:
        raise MalformedError("response", None, f"refusing to decode type {name!r}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not (isinstance(target, type) and is_model(target)):
        raise MalformedError("response", None, f"{name!r} is not a model")
    return target


@lru_cache(maxsize=None)
def decoder_for(cls: type) -> Callable[[Any], Any]:
    """A function turning a JSON object into an instance of the model ``cls``."""
    hints = typing.get_type_hints(cls)
    converters = [(name, _converter(hints[name])) for name in _fields(cls)]
    plain = [name for name, conv in converters if conv is None]
    special = [(name, conv) for name, conv in converters if conv is not None]

    def decode(data: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"t", "d"}:
            data = data["d"]
        kwargs = {name: data[name] for name in plain if name in data}
        for name, conv in special:
            if name in data:
                value = data[name]
                kwargs[name] = None if value is None else conv(value)
        return cls(**kwargs)

    return decode


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to rebuild a value of type ``hint`` from JSON, or ``None`` for as-is."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _converter(inner[0])
        return untag
    if isinstance(hint, type) and is_model(hint):
        return decoder_for(hint)
    if origin is tuple:
        item = _converter(args[0]) if args else None
        if item is None:
            return tuple
        return lambda values: tuple(item(v) for v in values)
    if origin in (frozenset, set) or hint in (frozenset, set):
        return frozenset
    if hint is Any or isinstance(hint, typing.TypeVar):
        return untag
    return None
