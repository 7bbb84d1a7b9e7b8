"""The gate's state to and from JSON-able values, so that it can be saved after
every event and loaded by a new process.

Dataclasses are written with their class name under "$", tuples under "$t",
mappings as key/value pairs under "$m" (their keys need not be strings), sets
under "$s"; only the classes registered here can be read back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lockgate.core.config import frozen, objects, source
from lockgate.core.gating import actions, changes, state

_CLASSES: dict[str, type[Any]] = {}
for _module in (source, objects, frozen, changes, actions, state):
    for _name in dir(_module):
        _cls = getattr(_module, _name)
        if isinstance(_cls, type) and (dataclasses.is_dataclass(_cls) or _cls is source.Mark):
            _CLASSES[_cls.__name__] = _cls


class CodecError(ValueError):
    pass


# Field names of each dataclass, and whether its instances are frozen.
_FIELDS: dict[type[Any], tuple[tuple[str, ...], bool]] = {}
# Encodings of frozen instances (jobs, changes, definitions: shared by many
# items and build sets, and saved again after every event), kept with the
# instance so that its id cannot be reused while the entry lives.
_FROZEN: dict[int, tuple[Any, Any]] = {}
_FROZEN_MAX = 50_000


def _shape(cls: type[Any]) -> tuple[tuple[str, ...], bool]:
    shape = _FIELDS.get(cls)
    if shape is None:
        if _CLASSES.get(cls.__name__) is not cls:
            raise CodecError(f"{cls.__name__} is not a class the gate's state may hold")
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        shape = (names, bool(cls.__dataclass_params__.frozen))
        _FIELDS[cls] = shape
    return shape


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, source.Mark):
        return {"$": "Mark", "line": value.line, "column": value.column}
    cls = type(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names, frozen_instance = _shape(cls)
        if frozen_instance:
            hit = _FROZEN.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
        out: dict[str, Any] = {"$": cls.__name__}
        for name in names:
            out[name] = encode(getattr(value, name))
        if frozen_instance:
            if len(_FROZEN) >= _FROZEN_MAX:
                _FROZEN.clear()
            _FROZEN[id(value)] = (value, out)
        return out
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"$s": sorted(encode(v) for v in value)}
    if isinstance(value, Mapping):
        return {"$m": [[encode(k), encode(v)] for k, v in value.items()]}
    raise CodecError(f"cannot save a {type(value).__name__} in the gate's state")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$t" in value:
        return tuple(decode(v) for v in value["$t"])
    if "$s" in value:
        return frozenset(decode(v) for v in value["$s"])
    if "$m" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["$m"]}
    name = value.get("$")
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CodecError(f"saved gate state names an unknown class {name!r}")
    return cls(**{k: decode(v) for k, v in value.items() if k != "$"})


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def to_dict(gate_state: state.GateState) -> dict[str, Any]:
    encoded = encode(gate_state)
    assert isinstance(encoded, dict)
    return encoded


def from_dict(data: Mapping[str, Any]) -> state.GateState:
    decoded = decode(dict(data))
    if not isinstance(decoded, state.GateState):
        raise CodecError("saved gate state does not hold a GateState")
    return decoded
