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


@dataclass
class KindSpec:
    name: str
    label: str | None
    fields: dict[str, FieldSpec]
    requires: tuple[ast.Require | ast.RequireOne, ...]  # as written, the `like` base's first
    span: ast.Span | None = None
    # each `require` with its condition checked in this kind's own scope (None: exactly one)
    conditions: tuple[tuple[ast.Require | ast.RequireOne, tree.Node | None], ...] = ()

    def exactly_one_groups(self) -> list[tuple[str, ...]]:
        return [r.fields for r in self.requires if isinstance(r, ast.RequireOne)]


@dataclass
class TableSpec:
    """A decision table, resolved: enum keys map to cells; number keys to brackets."""

    name: str
    key_types: tuple[Ty, ...]
    value_type: Ty
    cells: dict[Any, Any] = field(default_factory=dict)  # member or (row, column) -> value
    brackets: list[tuple[Interval, Any]] = field(default_factory=list)
    bracket_spans: list[ast.Span] = field(default_factory=list)  # each bracket's row
    cite: ast.Cite | None = None
    # a changed cell's own citation (a cell key, or a bracket's index), where it has one
    cell_cites: dict[Any, ast.Cite] = field(default_factory=dict)
    cell_spans: dict[Any, ast.Span] = field(default_factory=dict)  # each cell, as written
    span: ast.Span | None = None
    key_name: str | None = None  # a bracket table's key, for messages

    @property
    def is_bracket(self) -> bool:
        return self.key_types[0].numeric


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
