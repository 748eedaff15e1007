"""Dataclass models read from JSON: known keys become typed fields (``str``, ``int``, ``bool``, ``Any``, lists,
dicts, nested models, ``X | None``), unknown keys are kept in ``extra`` so nothing is lost, and a wrong-typed value
is named (``where.key: what was wrong``) and dropped. The saved state's models (:mod:`bwhelpers.state`) are built
on :class:`Model`."""
from __future__ import annotations

import copy
import dataclasses
import types
import typing
from typing import Any, ClassVar, TypeVar

__all__ = ["Model", "Wrong", "parse", "dump", "depth", "MAX_DEPTH"]

#: free-form values (forms, criteria, unknown keys) nested deeper than this are dropped as corrupt
MAX_DEPTH = 24


class Wrong(ValueError):
    """A value of the wrong type for its field."""


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and dicts (iterative: safe for any depth json accepted)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            items: Any = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        todo.extend((v, level + 1) for v in items)
    return deepest


#: a type's (origin, args), asked once per type: the state is read many times per step (issue 25: typing's
#: get_origin/get_args were a fifth of reading it)
_SHAPES: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


def _shape(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    shape = _SHAPES.get(tp)
    if shape is None:
        shape = _SHAPES[tp] = (typing.get_origin(tp), typing.get_args(tp))
    return shape


def parse(tp: Any, value: Any, where: str, problems: list[str]) -> Any:
    """``value`` as type ``tp`` (str, int, bool, Any, list[X], dict[...], a model, X | None); Wrong if it isn't."""
    if tp is str and isinstance(value, str):
        return value
    origin, args = _shape(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return parse(next(a for a in args if a is not type(None)), value, where, problems)
    if tp is Any or origin is dict or tp is dict:
        if (origin is dict or tp is dict) and not isinstance(value, dict):
            raise Wrong(f"expected an object, got {type(value).__name__}")
        if depth(value) > MAX_DEPTH:
            raise Wrong(f"nested more than {MAX_DEPTH} levels deep")
        return value
    if isinstance(tp, type) and issubclass(tp, Model):
        if not isinstance(value, dict):
            raise Wrong(f"expected an object, got {type(value).__name__}")
        return tp._from(value, where, problems)
    if origin is list:
        if not isinstance(value, list):
            raise Wrong(f"expected a list, got {type(value).__name__}")
        out = []
        for i, item in enumerate(value):
            try:
                out.append(parse(args[0], item, f"{where}[{i}]", problems))
            except Wrong as exc:
                problems.append(f"{where}[{i}]: {exc}")
        return out
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):  # an id typed by hand without quotes
            return str(value)
        raise Wrong(f"expected a string, got {type(value).__name__}")
    if tp is bool and isinstance(value, bool) or tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise Wrong(f"expected {getattr(tp, '__name__', tp)}, got {type(value).__name__}")


M = TypeVar("M", bound="Model")


class Model:
    """A saved object: known keys are typed fields, unknown ones kept in ``extra`` (so nothing is lost)."""

    #: field name -> key in the file, where they differ
    _ALIASES: ClassVar[dict[str, str]] = {}
    extra: dict[str, Any]

    @classmethod
    def _hints(cls) -> dict[str, Any]:
        """The fields' types, resolved once per class (``typing.get_type_hints`` is slow, and the state is read
        many times per notebook cell)."""
        hints = cls.__dict__.get("_resolved_hints")
        if hints is None:
            hints = typing.get_type_hints(cls)
            cls._resolved_hints = hints  # type: ignore[attr-defined]
        return hints

    @classmethod
    def _plan(cls) -> tuple[tuple[tuple[str, str, Any], ...], frozenset[str]]:
        """((field name, key in the file, type) of each field but ``extra``, the keys), once per class."""
        plan = cls.__dict__.get("_field_plan")
        if plan is None:
            hints = cls._hints()
            fields = tuple((f.name, cls._ALIASES.get(f.name, f.name), hints[f.name])
                           for f in dataclasses.fields(cls) if f.name != "extra")  # type: ignore[arg-type]
            plan = (fields, frozenset(key for _n, key, _t in fields))
            cls._field_plan = plan  # type: ignore[attr-defined]
        return plan

    @classmethod
    def _from(cls: type[M], data: dict[str, Any], where: str, problems: list[str]) -> M:
        fields, known = cls._plan()
        kwargs: dict[str, Any] = {}
        for name, key, tp in fields:
            if key not in data:
                continue
            try:
                kwargs[name] = parse(tp, data[key], f"{where}.{key}", problems)
            except Wrong as exc:
                problems.append(f"{where}.{key}: {exc}")
        extra = {}
        for key, value in data.items():
            if key in known:
                continue
            if depth(value) > MAX_DEPTH:
                problems.append(f"{where}.{key}: nested more than {MAX_DEPTH} levels deep")
            else:
                extra[key] = value
        return cls(**kwargs, extra=extra)  # type: ignore[call-arg]

    def to_dict(self) -> dict[str, Any]:
        """The object in the file's shape (aliases, nested models as dicts, unknown keys kept)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name == "extra":
                continue
            out[self._ALIASES.get(f.name, f.name)] = dump(getattr(self, f.name))
        out.update(copy.deepcopy(self.extra))
        return out


def dump(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [dump(v) for v in value]
    return copy.deepcopy(value)
