"""The checked policy: what the checker hands to the compiler.

Input: built by `engine.checking.check` from `Symbols` once every check has passed. Output:
resolved kinds, fields, tables and names, so that the compiler and the record
validator never resolve a name or a label again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.checking import tree
from engine.checking.symbols import Symbols
from engine.checking.types import EVERYTHING, Interval, Ty
from engine.syntax import ast


@dataclass
class FieldSpec:
    """A record field: its type, what values are allowed and whether it may be absent."""

    name: str
    label: str | None
    ty: Ty
    members: tuple[str, ...] | None = None  # allowed members, in declaration order
    interval: Interval = EVERYTHING
    optional: bool = False  # may be left out of a record
    default: Any = None  # the value used when left out (None: stays absent)
    span: ast.Span | None = None
    decl: ast.FieldDecl | None = None  # as written

    @property
    def may_be_absent(self) -> bool:
        return self.optional and self.default is None


@dataclass(frozen=True)
class FactSpec:
    """What a `facts` kind's absence, or several of its records, mean for a person-year."""

    missing_reason: str | None  # a person-year without one is not qualified, for this reason
    defaults: dict[str, Any]  # field -> the value the arithmetic uses when there is none
    several: tuple[str, str] | None  # ("reason", R), ("highest" | "lowest", FIELD); None: refused
    order: tuple[Any, ...] | None = None  # the members of `several`'s field, lowest first


@dataclass
class KindSpec:
    name: str
    label: str | None
    fields: dict[str, FieldSpec]
    requires: tuple[ast.Require | ast.RequireOne, ...]  # as written, the `like` base's first
    span: ast.Span | None = None
    # each `require` with its condition checked in this kind's own scope (None: exactly one)
    conditions: tuple[tuple[ast.Require | ast.RequireOne, tree.Node | None], ...] = ()
    facts: FactSpec | None = None  # a `facts` kind: its records earn nothing

    def exactly_one_groups(self) -> list[tuple[str, ...]]:
        return [r.fields for r in self.requires if isinstance(r, ast.RequireOne)]


@dataclass(frozen=True)
class Withheld:
    """What a cell `— REASON` (or a table's `otherwise`) gives: the record is not counted."""

    reason: str


@dataclass(frozen=True)
class Entry:
    """One value of a table: a member or a number's bracket per key, and the value —
    None for a hole `—`, a `Withheld` for `— REASON`."""

    keys: tuple[Any, ...]  # str (a member) or Interval, one per key
    value: Any
    span: ast.Span  # its value's cell, where it is written (a change's own file)
    cite: ast.Cite | None = None  # its own citation, where a change gave it one


@dataclass
class TableSpec:
    """A decision table, resolved: one entry per cell written, keyed by canonical
    members and number brackets."""

    name: str
    key_types: tuple[Ty, ...]
    value_type: Ty
    key_names: tuple[str, ...] = ()  # each key's name, or its type, for messages
    entries: list[Entry] = field(default_factory=list)
    otherwise: str | None = None  # the reason keys beyond the rows and columns give
    cite: ast.Cite | None = None
    span: ast.Span | None = None

    @property
    def numbers(self) -> tuple[int, ...]:
        """The positions of the number keys."""
        return tuple(i for i, t in enumerate(self.key_types) if t.numeric)


@dataclass(frozen=True)
class Signature:
    """A function's parameters and result, resolved to types and domains."""

    params: tuple[tuple[str, Ty, frozenset[str] | None, Interval], ...]
    returns: Ty
    returns_members: frozenset[str] | None


@dataclass(frozen=True)
class CheckedRule:
    """A rule, with its body checked against its kind's fields."""

    decl: ast.Rule
    body: tree.Body


@dataclass(frozen=True)
class CheckedFunction:
    decl: ast.Function
    signature: Signature
    body: tree.Body


@dataclass(frozen=True)
class Model:
    symbols: Symbols
    kinds: dict[str, KindSpec]
    tables: dict[str, TableSpec]
    params: dict[str, int | Decimal | bool | str]
    functions: dict[str, CheckedFunction]
    rules: dict[tuple[str, str], CheckedRule]  # (kind, regime) -> rule
    summaries: dict[str, tree.Summary]  # regime -> its year summary
    windows: dict[str, tree.Summary]  # name -> window
