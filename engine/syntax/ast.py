"""The typed syntax tree of a `.rules` policy.

Input: built only by `engine.syntax.parse`. Output: frozen, slotted nodes named after the
language. Every node carries a `span` that equality ignores, so two sources that differ
only in layout compare equal. Nodes are inert: no checking or evaluation happens here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node stands in its file (1-based lines and columns, end exclusive)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


# ── expressions ──────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Number:
    value: int | Decimal
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Name:
    """A field, parameter, let, function parameter or (resolved by the checker) a member."""

    name: str
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Qualified:
    """`enum.member`."""

    enum: str
    member: str
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Call:
    """`f(a, b)`; in a summary also `sum(NAME where CONDITION by FIELD capped CAP)`:
    `where` the condition, `by` the field whose groups (without it: records) are each
    capped at `cap`."""

    function: str
    args: tuple[Expr, ...]
    where: Expr | None = None
    by: Name | None = None
    cap: Expr | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Lookup:
    table: str
    keys: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Unary:
    """`-x` (op `-`) or `not x` (op `not`)."""

    op: str
    operand: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic (`+ - * / // %`) or logic (`and`, `or`)."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Membership:
    """`item in collection` (or `not in` when negated)."""

    item: Expr
    collection: Expr
    negated: bool
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class If:
    condition: Expr
    then: Expr
    otherwise: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Uncounted:
    """`not counted REASON`: the record earns nothing, for a declared reason."""

    reason: str
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Has:
    """`has FIELD`: an optional field without a default was given."""

    field: str
    span: Span = dataclasses.field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class SetLiteral:
    members: tuple[str, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


Expr = (
    Number
    | Text
    | Bool
    | Name
    | Qualified
    | Call
    | Lookup
    | Unary
    | Binary
    | Compare
    | Membership
    | If
    | Uncounted
    | Has
    | SetLiteral
)


# ── shared pieces ────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Cite:
    """Citation keys: `regime` None applies to every regime."""

    keys: tuple[tuple[str | None, str], ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Bound:
    op: str
    value: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Range:
    low: Expr
    high: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A type name with optional restrictions: bounds, a range or a set of members."""

    name: str
    bounds: tuple[Bound, ...] = ()
    range: Range | None = None
    members: SetLiteral | None = None
    is_set: bool = False
    span: Span = field(compare=False, repr=False, kw_only=True)


# ── declarations ─────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Gap:
    """`gap 2022`: years between a base's and the policy's own that neither decides."""

    first: int | None
    last: int | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class PolicyDecl:
    """`policy NAME "label" extends "../base" years 2023.. gap 2022`: who the policy is,
    what it builds on, the years it is in force (`years` None: its regimes' years) and
    the years between its base's and its own that neither decides."""

    name: str
    label: str | None
    extends: str | None = None
    years: tuple[int | None, int | None] | None = None
    gap: Gap | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    label: str | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Reason:
    name: str
    label: str | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    label: str | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Enum:
    name: str
    label: str | None
    ordered: bool
    members: tuple[Member, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Regime:
    """Effective years (`first`/`last` None for an open end) and a unit."""

    name: str
    label: str | None
    first: int | None
    last: int | None
    unit: str
    unit_label: str | None
    cite: Cite | None
    span: Span = field(compare=False, repr=False, kw_only=True)
    # which of `years`, `unit` and `cite` were written (an override keeps the base's others)
    written: tuple[str, ...] = field(default=("years", "unit", "cite"), repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    label: str | None
    value: Expr
    cite: Cite | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: str
    label: str | None
    optional: bool
    type: TypeSpec
    default: Expr | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Require:
    """A cross-field constraint; `label` is the officer's message, if any."""

    condition: Expr
    label: str | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class RequireOne:
    """`require exactly one of a, b`."""

    fields: tuple[str, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class FactRules:
    """What a `facts` kind's absence, or several of its records, mean for a person-year:
    `without: not qualified REASON, FIELD = VALUE`, `several: highest FIELD`."""

    missing_reason: str | None
    defaults: tuple[tuple[str, Expr], ...]
    several: tuple[str, str] | None  # ("reason", REASON), ("highest" | "lowest", FIELD)
    missing_at: Span | None = field(default=None, compare=False, repr=False)
    several_at: Span | None = field(default=None, compare=False, repr=False)
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Kind:
    """`kind NAME { … }`; with `facts`, declared `facts NAME { … }`: records that give
    facts (a title level) and earn nothing."""

    name: str
    label: str | None
    like: str | None
    fields: tuple[FieldDecl, ...]
    requires: tuple[Require | RequireOne, ...]
    facts: FactRules | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Hole:
    """`—`: the notice gives no value here; `— REASON`: a look-up that lands here makes
    the record `not counted REASON`."""

    reason: str | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Bracket:
    """A range of a number: `None` bounds are open ends."""

    low: int | Decimal | None
    low_closed: bool
    high: int | Decimal | None
    high_closed: bool
    span: Span = field(compare=False, repr=False, kw_only=True)


Cell = Number | Text | Bool | Name | Hole | Bracket


@dataclass(frozen=True, slots=True)
class Row:
    """A grid row. Made by the parser with its cells only; a row of a table changed by
    a policy that extends another may carry its changed cells' own citations (`cites`,
    one per value cell, None where the table's applies) and the base row it is part of
    the split of (`splits`)."""

    cells: tuple[Cell, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)
    cites: tuple[Cite | None, ...] = field(default=(), kw_only=True)
    splits: Bracket | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class TableKey:
    name: str | None
    type: str
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Table:
    """A decision table: its first row is the header. Two keys make a grid (the header
    names the columns, the first cell of a row its row); any other number a list (each
    row gives one cell per key, then the value). `otherwise` is what keys beyond the rows
    and columns give (None: a hole)."""

    name: str
    keys: tuple[TableKey, ...]
    value_type: str
    label: str | None
    cite: Cite | None
    rows: tuple[Row, ...]
    otherwise: Uncounted | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)

    @property
    def key_cells(self) -> int:
        """How many cells of a row are keys: one in a grid, one per key in a list."""
        return 1 if len(self.keys) == 2 else len(self.keys)


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    value: Expr
    cite: Cite | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class When:
    """An early result: when `condition` holds, the body gives `result`."""

    condition: Expr
    result: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


Statement = Let | When


@dataclass(frozen=True, slots=True)
class FnParam:
    name: str
    type: TypeSpec
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    params: tuple[FnParam, ...]
    returns: TypeSpec
    label: str | None
    cite: Cite | None
    body: tuple[Statement, ...]
    result: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class CreditPart:
    """`AMOUNT to YEAR` of a `credit`; `amount` None is `rest` (what the others leave)."""

    amount: Expr | None
    year: Expr
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Credit:
    """`credit 50 to year, rest to year + 1`, or `credit to each year from A to B` (`each`):
    the years a rule's amount is credited to, instead of the record's year."""

    parts: tuple[CreditPart, ...]
    each: tuple[Expr, Expr] | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Rule:
    """How a kind's records earn an amount, in the listed regimes (empty: all)."""

    kind: str
    regimes: tuple[str, ...]
    label: str | None
    category: str
    cite: Cite | None
    body: tuple[Statement, ...]
    result: Expr
    credit: Credit | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Labels:
    """Labels for words the engine prints itself: common fields, report headings."""

    entries: tuple[tuple[str, str], ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Show:
    """A value a summary reports: `show NAME "label" = EXPR`, or a `let` already made."""

    name: str
    label: str | None
    value: Expr | None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Requirement:
    """`requirement NAME "label": achieved >= required`; `name` None for the only one. With
    `reason`, any condition: `… else not qualified REASON` (a requirement not in amounts)."""

    name: str | None
    label: str | None
    condition: Expr
    reason: str | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


SummaryStatement = Let | Show | Requirement


@dataclass(frozen=True, slots=True)
class Summary:
    """How one person's year is summed up, in the listed regimes."""

    regimes: tuple[str, ...]
    label: str | None
    cite: Cite | None
    body: tuple[SummaryStatement, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Anchor:
    """`years 3 before application`: the `count` years before the year of each of a
    person's records of `kind` (`through`: ending with that year); `years from
    term.first to term.last`: the years its two fields give (`fields`)."""

    count: int
    kind: str
    through: bool
    fields: tuple[str, str] | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Window:
    """A span of years summed up over a person's yearly summaries."""

    name: str
    regime: str
    first: int | None
    last: int | None
    label: str | None
    cite: Cite | None
    body: tuple[SummaryStatement, ...]
    anchor: Anchor | None = None  # counted back from a record's year, not fixed years
    span: Span = field(compare=False, repr=False, kw_only=True)


Replaceable = (
    Param | Table | Function | Rule | Kind | Enum | Regime | Summary | Window | Category | Reason
)


@dataclass(frozen=True, slots=True)
class Override:
    """`override DECL`: replaces the base policy's declaration of the same name (for a
    rule, its kind in the listed regimes; for a year summary, its regimes)."""

    decl: Replaceable
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class TableChange:
    """`override table T { grid }` changes the cells the grid names; `extend table T
    { grid }` adds rows and columns. The grid's first row is its header, as in a table."""

    table: str
    rows: tuple[Row, ...]
    adds: bool
    cite: Cite | None = None  # of the cells it sets (None: the table's)
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class CellOverride:
    """`override table T[row, column] = value cite "…"`: one cell of a base table (a
    list table's row: one key each, `T[a, b, c] = value`)."""

    table: str
    keys: tuple[Cell, ...]
    value: Cell
    cite: Cite | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class RowSplit:
    """`override table T[>= 4] = { | [4, 6) | 35 | | >= 6 | 40 | } cite "…"`: a bracket
    row of a base table replaced by rows that together cover its range."""

    table: str
    key: Cell
    rows: tuple[Row, ...]
    cite: Cite | None = None
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class EnumExtension:
    """`extend enum E { members }`: members after the base's (the highest, if ordered)."""

    enum: str
    members: tuple[Member, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class KindExtension:
    """`extend kind K { fields and requires }`: added to the base's kind."""

    kind: str
    fields: tuple[FieldDecl, ...]
    requires: tuple[Require | RequireOne, ...]
    span: Span = field(compare=False, repr=False, kw_only=True)


Change = Override | TableChange | CellOverride | RowSplit | EnumExtension | KindExtension

Declaration = (
    PolicyDecl
    | Labels
    | Category
    | Reason
    | Enum
    | Regime
    | Param
    | Kind
    | Table
    | Function
    | Rule
    | Summary
    | Window
    | Change
)


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment: not part of the meaning, kept for documents and formatting."""

    text: str
    span: Span = field(compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed `.rules` file; its comments do not take part in equality."""

    file: str
    declarations: tuple[Declaration, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)


def header_word(cell: Cell) -> str | None:
    """The name or label a header cell writes, if it writes one."""
    if isinstance(cell, Name):
        return cell.name
    if isinstance(cell, Text):
        return cell.value
    return None
