"""Turn the frozen dataclasses of `core` into JSON values, and back."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

T = TypeVar("T")

# A field's metadata key for the names it had in JSON written before a rename: see `renamed_from`.
_FORMER_NAMES = "kernelwright.json.former_names"


def renamed_from(*names: str) -> dict[str, tuple[str, ...]]:
    """Field metadata: `from_json` also reads this field from these former keys, so rows written under
    an old name (the store's JSON bodies) still load. `to_json` writes the current name only, and
    `from_untrusted_json` does not accept the old ones."""
    return {_FORMER_NAMES: names}


def _json_key(f: dataclasses.Field[Any], data: dict[str, Any]) -> str | None:
    """The key `data` holds field `f` under: its name, else a former name; None when it has neither."""
    if f.name in data:
        return f.name
    return next((old for old in f.metadata.get(_FORMER_NAMES, ()) if old in data), None)


def to_json(value: object) -> JsonValue:
    """Dataclasses become objects (fields in declaration order), enums their values, tuples lists."""
    if isinstance(value, enum.Enum):  # before str/int: StrEnum and IntEnum members are str and int too
        return to_json(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # JSON has no NaN/inf: keep them readable rather than failing.
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def from_json(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass (nested dataclasses, enums, tuples, unions, literals) from `to_json`'s output."""
    return typing.cast(T, _convert(cls, data))


def from_untrusted_json(cls: type[T], data: Any) -> T:
    """As `from_json`, for data from a process that may lie: every value must have its field's JSON
    type exactly (a number where a float goes, a list where a tuple goes), and an object no unknown
    keys; else TypeError naming what is off."""
    return typing.cast(T, _convert(cls, data, strict=True))


_STRICT_TYPES: dict[Any, tuple[type, ...]] = {float: (int, float), int: (int,), str: (str,), bool: (bool,)}


def _convert(tp: Any, data: Any, strict: bool = False) -> Any:
    if strict:
        _check_strict(tp, data)
    if tp is Any or tp is object:
        return data
    origin = get_origin(tp)
    if origin is typing.Literal:
        # Literal[Convention.MODULE]: give back the enum member, so `spec.convention is ...` holds after JSON.
        for member in get_args(tp):
            if isinstance(member, enum.Enum) and member.value == data:
                return member
        return data
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if data is None and type(None) in args:
            return None
        errors: list[str] = []
        for arg in args:
            if arg is type(None):
                continue
            if (
                isinstance(arg, type)
                and dataclasses.is_dataclass(arg)
                and isinstance(data, dict)
                and not _discriminates(arg, data)
            ):
                continue
            try:
                return _convert(arg, data, strict)
            except (TypeError, ValueError, KeyError) as exc:
                errors.append(str(exc))
        raise ValueError(f"no member of {tp} fits {data!r}: {errors}")
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], d, strict) for d in data)
        return tuple(_convert(a, d, strict) for a, d in zip(args, data, strict=True))
    if origin is list:
        (arg,) = get_args(tp)
        return [_convert(arg, d, strict) for d in data]
    if origin is dict:
        _k, v = get_args(tp)
        return {k: _convert(v, d, strict) for k, d in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(data, dict):
            raise TypeError(f"{tp.__name__} wants an object, got {type(data).__name__}")
        hints = get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            key = _json_key(f, data)
            if key is not None:
                kwargs[f.name] = _convert(hints[f.name], data[key], strict)
        return tp(**kwargs)
    if tp is float and isinstance(data, int | float | str):
        return float(data)
    if tp in (int, str, bool) and not isinstance(data, tp):
        raise TypeError(f"wanted {tp.__name__}, got {data!r}")
    return data


def _check_strict(tp: Any, data: Any) -> None:
    origin = get_origin(tp)
    wanted = _STRICT_TYPES.get(tp)
    if wanted is not None:
        if isinstance(data, bool) and tp is not bool:
            raise TypeError(f"wanted {tp.__name__}, got {data!r}")
        if not isinstance(data, wanted):
            raise TypeError(f"wanted {tp.__name__}, got {type(data).__name__}")
    elif origin in (tuple, list) and not isinstance(data, list):
        raise TypeError(f"wanted a list, got {type(data).__name__}")
    elif origin is dict and not isinstance(data, dict):
        raise TypeError(f"wanted an object, got {type(data).__name__}")
    elif dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(data, dict):
            raise TypeError(f"{tp.__name__} wants an object, got {type(data).__name__}")
        unknown = set(data) - {f.name for f in dataclasses.fields(tp)}
        if unknown:
            raise TypeError(f"{tp.__name__} has no field {sorted(unknown)[0]!r}")


def _discriminates(cls: type, data: dict[str, Any]) -> bool:
    """For unions of dataclasses: a `convention`/`kind` literal field must match, and no unknown keys."""
    names = {f.name for f in dataclasses.fields(cls)}
    names |= {old for f in dataclasses.fields(cls) for old in f.metadata.get(_FORMER_NAMES, ())}
    if not set(data) <= names:
        return False
    for f in dataclasses.fields(cls):
        if f.name in ("convention", "kind") and f.default is not dataclasses.MISSING and f.name in data:
            default = f.default.value if isinstance(f.default, enum.Enum) else f.default
            if data[f.name] != default:
                return False
    return True
