"""Dataclass models read from JSON: known keys become typed fields (``str``, ``int``, ``bool``, ``Any``, lists,
dicts, nested models, ``X | None``), unknown keys are kept in ``extra`` so nothing is lost, and a wrong-typed value
is named (``where.key: what was wrong``) and dropped. The saved state's models (:mod:`bwhelpers.state`) are built
on :class:`Model`."""
from __future__ import annotations

import copy
import dataclasses
import types
import typing
from typing import Any, Callable, ClassVar, TypeVar

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
    return _reader(tp)(value, where, problems)


Reader = Callable[[Any, str, "list[str]"], Any]
#: a type -> the function that reads a value as that type (:func:`parse`'s rules, the type's case chosen once: the
#: saved state is read a dozen times per step, and choosing the case for each of its ~90 values was most of a read)
_READERS: dict[Any, Reader] = {}


def _reader(tp: Any) -> Reader:
    try:
        reader = _READERS.get(tp)
    except TypeError:  # an unhashable type: its reader is made each time
        return _make_reader(tp)
    if reader is None:
        reader = _READERS[tp] = _make_reader(tp)
    return reader


def _make_reader(tp: Any) -> Reader:
    """The reader of ``tp``: the rules below, in this order, are THE type rules of a saved value."""
    if tp is str:
        def read_str(value: Any, where: str, problems: list[str]) -> Any:
            if isinstance(value, str):
                return value
            if isinstance(value, int) and not isinstance(value, bool):  # an id typed by hand without quotes
                return str(value)
            raise Wrong(f"expected a string, got {type(value).__name__}")
        return read_str
    origin, args = _shape(tp)
    if origin in (typing.Union, types.UnionType):
        read_arm = _reader(next(a for a in args if a is not type(None)))

        def read_optional(value: Any, where: str, problems: list[str]) -> Any:
            return None if value is None else read_arm(value, where, problems)
        return read_optional
    if tp is Any or origin is dict or tp is dict:
        must_be_object = origin is dict or tp is dict

        def read_free(value: Any, where: str, problems: list[str]) -> Any:
            if must_be_object and not isinstance(value, dict):
                raise Wrong(f"expected an object, got {type(value).__name__}")
            if isinstance(value, (dict, list)) and depth(value) > MAX_DEPTH:  # (anything else is 0 deep)
                raise Wrong(f"nested more than {MAX_DEPTH} levels deep")
            return value
        return read_free
    if isinstance(tp, type) and issubclass(tp, Model):
        model: type[Model] = tp

        def read_model(value: Any, where: str, problems: list[str]) -> Any:
            if not isinstance(value, dict):
                raise Wrong(f"expected an object, got {type(value).__name__}")
            return model._from(value, where, problems)
        return read_model
    if origin is list:
        item_type = args[0]
        read_item = _reader(item_type)

        def read_list(value: Any, where: str, problems: list[str]) -> Any:
            if not isinstance(value, list):
                raise Wrong(f"expected a list, got {type(value).__name__}")
            if item_type is str and all(type(item) is str for item in value):  # (each read as itself)
                return list(value)
            out = []
            for i, item in enumerate(value):
                try:
                    out.append(read_item(item, f"{where}[{i}]", problems))
                except Wrong as exc:
                    problems.append(f"{where}[{i}]: {exc}")
            return out
        return read_list
    if tp is bool:
        def read_bool(value: Any, where: str, problems: list[str]) -> Any:
            if isinstance(value, bool):
                return value
            raise Wrong(f"expected bool, got {type(value).__name__}")
        return read_bool
    if tp is int:
        def read_int(value: Any, where: str, problems: list[str]) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise Wrong(f"expected int, got {type(value).__name__}")
        return read_int
    name = getattr(tp, "__name__", tp)

    def read_other(value: Any, where: str, problems: list[str]) -> Any:
        raise Wrong(f"expected {name}, got {type(value).__name__}")
    return read_other


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
    def _read_plan(cls) -> tuple[tuple[tuple[str, str, str, Reader], ...], frozenset[str]]:
        """((field name, key in the file, ".key", the type's reader) of each field but ``extra``, the keys), once per
        class (:meth:`_plan` with each type's reader)."""
        plan = cls.__dict__.get("_field_readers")
        if plan is None:
            fields, known = cls._plan()
            plan = (tuple((name, key, f".{key}", _reader(tp)) for name, key, tp in fields), known)
            cls._field_readers = plan  # type: ignore[attr-defined]
        return plan

    @classmethod
    def _from(cls: type[M], data: dict[str, Any], where: str, problems: list[str]) -> M:
        fields, known = cls._read_plan()
        kwargs: dict[str, Any] = {}
        for name, key, dot_key, read in fields:
            if key not in data:
                continue
            try:
                kwargs[name] = read(data[key], where + dot_key, problems)
            except Wrong as exc:
                problems.append(f"{where}.{key}: {exc}")
        extra = {}
        for key, value in data.items():
            if key in known:
                continue
            if isinstance(value, (dict, list)) and depth(value) > MAX_DEPTH:  # (anything else is 0 deep)
                problems.append(f"{where}.{key}: nested more than {MAX_DEPTH} levels deep")
            else:
                extra[key] = value
        return cls(**kwargs, extra=extra)  # type: ignore[call-arg]

    @classmethod
    def _dump_plan(cls) -> tuple[tuple[str, str], ...]:
        """(field name, key in the file) of each field but ``extra``, in the fields' order, once per class."""
        plan = cls.__dict__.get("_field_keys")
        if plan is None:
            plan = tuple((f.name, cls._ALIASES.get(f.name, f.name))
                         for f in dataclasses.fields(cls) if f.name != "extra")  # type: ignore[arg-type]
            cls._field_keys = plan  # type: ignore[attr-defined]
        return plan

    def to_dict(self) -> dict[str, Any]:
        """The object in the file's shape (aliases, nested models as dicts, unknown keys kept)."""
        out: dict[str, Any] = {key: dump(getattr(self, name)) for name, key in self._dump_plan()}
        if self.extra:
            out.update(copy.deepcopy(self.extra))
        return out


#: values deepcopy returns as they are (immutable): dump hands them back without asking it
_ATOMIC = frozenset({str, int, bool, float, type(None)})


def dump(value: Any) -> Any:
    if type(value) in _ATOMIC:
        return value
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [dump(v) for v in value]
    return copy.deepcopy(value)
