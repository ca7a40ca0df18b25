"""Decision tables: the grid or list as written, checked and resolved to look-up data.

Input: an `ast.Table` and the policy's symbols. Output: a `TableSpec` (one entry per
cell, keyed by canonical members and number brackets, with a changed cell's own cite)
and diagnostics: unknown or repeated headers and rows, rows whose length differs from
the header, values of the wrong type, unknown reasons, brackets that overlap or leave a
gap between them, and rows that split a base's bracket row without covering exactly its
range. `reach` tells which entries a look-up can land on, for the hole and gap checks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.checking.model import Entry, TableSpec, Withheld
from engine.checking.symbols import Symbols
from engine.checking.types import (
    BOOL,
    INT,
    NUMBER,
    TEXT,
    Interval,
    Ty,
    gaps,
    intersect,
    overlaps,
    partition,
)
from engine.syntax import ast
from engine.syntax.ast import header_word
from engine.syntax.diagnostics import Diagnostic, did_you_mean
from engine.syntax.printer import cell_text, number_text

SCALAR_TYPES = {"int": INT, "number": NUMBER, "bool": BOOL, "text": TEXT}


def resolve_scalar_or_enum(name: str, symbols: Symbols) -> Ty | None:
    if name in SCALAR_TYPES:
        return SCALAR_TYPES[name]
    if name in symbols.enums:
        return Ty("enum", name)
    return None


def describe_key(key: Any, name: str, alone: bool = False) -> str:
    """A member as `` `national` ``; a bracket as `rank >= 7` (a single number as
    `rank 7` beside other keys, `rank == 7` alone)."""
    if not isinstance(key, Interval):
        return f"`{key}`"
    if not alone and key.low is not None and key.low == key.high:
        return f"{name} {number_text(key.low)}"
    return key.describe(name)


class _TableBuilder:
    def __init__(self, table: ast.Table, symbols: Symbols) -> None:
        self.table, self.symbols = table, symbols
        self.diags: list[Diagnostic] = []

    def error(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help))

    def build(self) -> TableSpec | None:
        t = self.table
        if t.cite is None:
            self.error(
                "missing-cite",
                f"table `{t.name}` has no `cite`",
                t.span,
                'add the clause it comes from, e.g. `cite "§2"`',
            )
        keys = [self._key_type(k) for k in t.keys]
        value_type = self._type(t.value_type, t.span)
        if None in keys or value_type is None:
            return None
        key_types = tuple(k for k in keys if k is not None)
        names = tuple(k.name or k.type for k in t.keys)
        spec = TableSpec(t.name, key_types, value_type, names, cite=t.cite, span=t.span)
        if t.otherwise is not None:
            withheld = self._reason(t.otherwise.reason, t.otherwise.span)
            spec.otherwise = withheld.reason if withheld is not None else None
        if len(key_types) == 2:
            self._grid(spec)
        else:
            self._list(spec)
        return spec if not self.diags else None

    def _type(self, name: str, span: ast.Span) -> Ty | None:
        ty = resolve_scalar_or_enum(name, self.symbols)
        if ty is None:
            known = list(SCALAR_TYPES) + list(self.symbols.enums)
            self.error("unknown-name", f"unknown type `{name}`", span, did_you_mean(name, known))
        return ty

    def _key_type(self, key: ast.TableKey) -> Ty | None:
        ty = self._type(key.type, key.span)
        if ty is not None and ty.base not in ("enum", "int", "number"):
            self.error(
                "table-shape",
                f"a table is keyed by members of an enum or by numbers, not by {ty}",
                key.span,
                "key it by an enum, an `int` or a `number`",
            )
            return None
        return ty

    # ── shapes ─────────────────────────────────────────────────────────────
    def _list(self, spec: TableSpec) -> None:
        """One key (`| key | value |`) or three and more: each row gives one cell per key,
        then the value."""
        n = len(spec.key_types)
        header, *rows = self.table.rows
        if len(header.cells) != n + 1:
            self._header_length(header, n)
        seen: dict[tuple[Any, ...], ast.Row] = {}
        for row in rows:
            if len(row.cells) != n + 1:
                self._row_length(row, n)
                continue
            keys = [self._key(row.cells[i], ty, i) for i, ty in enumerate(spec.key_types)]
            if None in keys or self._repeated(tuple(keys), row, seen):
                continue
            value = self._value(row.cells[n], spec.value_type)
            cite = _cites(row, 1)[0]
            spec.entries.append(Entry(tuple(keys), value, row.cells[n].span, cite))
        if n == 1 and spec.key_types[0].numeric:
            if not self._check_splits({k[0]: r for k, r in seen.items()}):
                self._check_axis([(k[0], r.cells[0]) for k, r in seen.items()], 0)
        elif n > 1:
            self._check_boxes(spec, list(seen.values()))

    def _grid(self, spec: TableSpec) -> None:
        """Two keys: the header's cells after the first are the columns' keys, the first
        cell of each row its row's key."""
        header, *rows = self.table.rows
        columns: list[Any] = []
        for cell in header.cells[1:]:
            column = self._key(cell, spec.key_types[1], 1)
            if column is not None and column in columns:
                shown = column if isinstance(column, str) else cell_text(cell)
                self.error("duplicate-column", f"column `{shown}` appears twice", cell.span)
                column = None
            columns.append(column)
        width = len(header.cells)
        seen: dict[tuple[Any, ...], ast.Row] = {}
        for row in rows:
            if len(row.cells) != width:
                self.error(
                    "row-length",
                    f"this row has {_values(len(row.cells) - 1)}; the header "
                    f"has {_values(width - 1)}",
                    row.span,
                )
                continue
            key = self._key(row.cells[0], spec.key_types[0], 0)
            if key is None or self._repeated((key,), row, seen):
                continue
            cites = _cites(row, len(columns))
            for column, cell, cite in zip(columns, row.cells[1:], cites, strict=True):
                value = self._value(cell, spec.value_type)
                if column is not None:
                    spec.entries.append(Entry((key, column), value, cell.span, cite))
        if spec.key_types[0].numeric:
            self._check_axis([(k[0], r.cells[0]) for k, r in seen.items()], 0)
        if spec.key_types[1].numeric:
            pairs = zip(columns, header.cells[1:], strict=True)
            written = [(c, cell) for c, cell in pairs if c is not None]
            self._check_axis(written, 1)

    def _header_length(self, header: ast.Row, n: int) -> None:
        if n == 1:
            message, example = "the header of a one-key table has two cells", "`| 刊号 | 级别 |`"
        else:
            message = (
                f"the header of a table with {n} keys has {n + 1} cells: "
                "one per key, then the value's"
            )
            example = "`| 级别 | 角色 | 排序 | 学时 |`"
        self.error("row-length", message, header.span, f"e.g. {example}")

    def _row_length(self, row: ast.Row, n: int) -> None:
        if n == 1:
            message = f"this row has {_values(len(row.cells) - 1)}; the header has {_values(1)}"
        else:
            message = (
                f"this row has {len(row.cells)} cells; a row of this table has {n + 1}: "
                "one per key, then the value"
            )
        self.error("row-length", message, row.span)

    def _repeated(
        self, keys: tuple[Any, ...], row: ast.Row, seen: dict[tuple[Any, ...], ast.Row]
    ) -> bool:
        if keys in seen:
            self.error(
                "duplicate-row",
                "this row repeats an earlier row's key",
                row.cells[0].span,
                f"the same key is at line {seen[keys].span.line}",
            )
            return True
        seen[keys] = row
        return False

    # ── cells ──────────────────────────────────────────────────────────────
    def _member(self, cell: ast.Cell, enum: str) -> str | None:
        word = header_word(cell)
        member = self.symbols.member(enum, word) if word is not None else None
        if member is None:
            known = self.symbols.members(enum) + [
                m.label for m in self.symbols.enums[enum].members if m.label
            ]
            shown = word if word is not None else "this cell"
            self.error(
                "unknown-member",
                f"`{shown}` is not a member of `{enum}`",
                cell.span,
                did_you_mean(word or "", known),
            )
        return member

    def _key(self, cell: ast.Cell, ty: Ty, axis: int) -> Any:
        """A member (by name or label) for an enum key; a bracket for a number key."""
        if ty.base == "enum":
            return self._member(cell, ty.enum or "")
        if isinstance(cell, ast.Number):
            return Interval.point(cell.value)
        if isinstance(cell, ast.Bracket):
            return Interval(cell.low, cell.low_closed, cell.high, cell.high_closed)
        name = self.table.keys[axis].name or "the key"
        message = (
            "a row of a bracket table starts with a number or a range"
            if len(self.table.keys) == 1
            else f"`{name}` is a number: its cells are numbers or ranges"
        )
        self.error("type", message, cell.span, "e.g. `< 1`, `[1, 2)`, `>= 4` or `3`")
        return None

    def _reason(self, reason: str, span: ast.Span) -> Withheld | None:
        if reason not in self.symbols.reasons:
            self.error("unknown-name", f"unknown reason `{reason}`", span,
                       did_you_mean(reason, self.symbols.reasons))  # fmt: skip
            return None
        return Withheld(reason)

    def _value(self, cell: ast.Cell, ty: Ty) -> Any:
        """The cell's value; None for a hole (and for a cell in error, reported)."""
        if isinstance(cell, ast.Hole):
            return None if cell.reason is None else self._reason(cell.reason, cell.span)
        if ty.base == "enum":
            return self._member(cell, ty.enum or "")
        if ty.numeric and isinstance(cell, ast.Number):
            if ty == INT and isinstance(cell.value, Decimal):
                self.error("type", f"`{cell.value}` is not a whole number", cell.span)
            return cell.value
        if ty == BOOL and isinstance(cell, ast.Bool):
            return cell.value
        if ty == TEXT and isinstance(cell, ast.Text):
            return cell.value
        self.error("type", f"this cell must be {ty}", cell.span)
        return None

    # ── brackets ───────────────────────────────────────────────────────────
    def _check_splits(self, rows: dict[Interval, ast.Row]) -> bool:
        """Rows that replace a base's row cover its range exactly; whether any did not."""
        x = self.table.keys[0].name or "the key"
        integer = self.table.keys[0].type == "int"
        groups: dict[ast.Bracket, list[Interval]] = {}
        for key, row in rows.items():
            if row.splits is not None:
                groups.setdefault(row.splits, []).append(key)
        before = len(self.diags)
        for old, parts in groups.items():
            whole = Interval(old.low, old.low_closed, old.high, old.high_closed)
            written = cell_text(old)
            for part in parts:
                for extra in gaps(part, [whole], integer):
                    self.error(
                        "split-range",
                        f"this row ({part.describe(x)}) reaches beyond the row `{written}` it "
                        f"replaces: {extra.describe(x)} is not part of it",
                        rows[part].cells[0].span,
                        f"the rows replacing `{written}` lie within it",
                    )
            for missing in gaps(whole, parts, integer):
                after = [p for p in parts if _starts_after(p, missing)]
                self.error(
                    "split-range",
                    f"the rows replacing `{written}` leave {missing.describe(x)} uncovered",
                    rows[after[0] if after else parts[-1]].cells[0].span,
                    f"the rows replacing `{written}` cover all of it; add a row for the rest",
                )
        return len(self.diags) > before

    def _check_axis(self, written: list[tuple[Interval, ast.Cell]], axis: int) -> None:
        """The brackets of one key's rows (or columns) neither overlap nor leave a gap."""
        x = self.table.keys[axis].name or "the key"
        integer = self.table.keys[axis].type == "int"
        cells = dict(written)
        ordered = sorted(cells, key=lambda b: (b.low is not None, b.low or 0, not b.low_closed))
        for a, b in itertools.pairwise(ordered):
            if overlaps(a, b, integer):
                where = "row" if axis == 0 else "column"
                self.error(
                    "bracket-overlap",
                    f"this {where} ({b.describe(x)}) overlaps the {where} {a.describe(x)}",
                    cells[b].span,
                )
        if len(ordered) < 2:
            return
        top = max(ordered, key=lambda b: (b.high is None, b.high or 0, b.high_closed))
        whole = Interval(ordered[0].low, ordered[0].low_closed, top.high, top.high_closed)
        for gap in gaps(whole, ordered, integer):
            after = next(
                (
                    b
                    for b in ordered
                    if b.low is not None and gap.high is not None and b.low >= gap.high
                ),
                ordered[-1],
            )
            what = "row" if axis == 0 else "column"
            self.error("bracket-gap", f"no {what} covers {gap.describe(x)}", cells[after].span)

    def _check_boxes(self, spec: TableSpec, rows: list[ast.Row]) -> None:
        """Rows of a list table that share their members may not share a number."""
        names = spec.key_names
        numbers = spec.numbers
        for (a, ra), (b, rb) in itertools.combinations(zip(spec.entries, rows, strict=True), 2):
            if all(
                overlaps(x, y, spec.key_types[i] == INT) if i in numbers else x == y
                for i, (x, y) in enumerate(zip(a.keys, b.keys, strict=True))
            ):
                first = next(i for i in numbers if a.keys[i] != b.keys[i])
                self.error(
                    "bracket-overlap",
                    f"this row ({_row_text(b.keys, names)}) overlaps the row at line "
                    f"{ra.span.line} ({_row_text(a.keys, names)})",
                    rb.cells[first].span,
                )


def _cites(row: ast.Row, n: int) -> tuple[ast.Cite | None, ...]:
    """A row's cells' own citations (a changed table's), one per value cell."""
    return row.cites or (None,) * n


def _row_text(keys: tuple[Any, ...], names: tuple[str, ...]) -> str:
    return " × ".join(describe_key(k, n) for k, n in zip(keys, names, strict=True))


def _starts_after(piece: Interval, gap: Interval) -> bool:
    return piece.low is not None and gap.high is not None and piece.low >= gap.high


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def build_table(table: ast.Table, symbols: Symbols) -> tuple[TableSpec | None, list[Diagnostic]]:
    builder = _TableBuilder(table, symbols)
    spec = builder.build()
    return spec, builder.diags


# ── where a look-up can land ─────────────────────────────────────────────


@dataclass
class Reach:
    """What a look-up can give: values, reasons it is not counted (with the keys that give
    each), and the keys that have no value — holes, and numbers no bracket covers."""

    values: list[Any] = field(default_factory=list)
    withheld: dict[str, list[str]] = field(default_factory=dict)
    holes: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


_ABSENT, _GAP = object(), object()  # no row or column for these members; no bracket


def reach(table: TableSpec, domains: list[Any], names: list[str]) -> Reach:
    """Where keys from `domains` (a list of members for an enum key, an interval for a
    number key) land in `table`; `names` name the keys in the places described."""
    out = Reach()
    alone = len(table.key_types) == 1
    enums = [i for i, t in enumerate(table.key_types) if not t.numeric]
    groups: dict[tuple[Any, ...], list[Entry]] = {}
    for entry in table.entries:
        groups.setdefault(tuple(entry.keys[i] for i in enums), []).append(entry)
    axes = [(i, domains[i], table.key_types[i] == INT, names[i]) for i in table.numbers]
    for combo in itertools.product(*(domains[i] for i in enums)):
        entries = groups.get(combo, [])
        shown = [f"`{m}`" for m in combo]
        if combo and not entries:  # no row or column for these members
            _land(table, out, _ABSENT, shown)
        else:
            _walk(table, out, entries, axes, shown, bool(entries), alone)
    return out


def _walk(
    table: TableSpec,
    out: Reach,
    entries: list[Entry],
    axes: list[tuple[int, Interval, bool, str]],
    shown: list[str],
    present: bool,
    alone: bool,
) -> None:
    """The number keys one by one: cut at every bracket's ends, then the last key's gaps."""
    if not axes:
        _land(table, out, entries[0].value if entries else _ABSENT, shown)
        return
    (position, domain, integer, name), rest = axes[0], axes[1:]
    inside = [e for e in entries if overlaps(e.keys[position], domain, integer)]
    brackets = [e.keys[position] for e in inside]
    if rest:
        for piece in partition(domain, brackets, integer):
            within = [e for e in inside if overlaps(e.keys[position], piece, integer)]
            part = [*shown, describe_key(piece, name, alone)]
            _walk(table, out, within, rest, part, present, alone)
        return
    for e in inside:
        where = describe_key(intersect(e.keys[position], domain), name, alone)
        _land(table, out, e.value, [*shown, where])
    for gap in gaps(domain, brackets, integer):
        _land(table, out, _GAP if present else _ABSENT, [*shown, describe_key(gap, name, alone)])


def _land(table: TableSpec, out: Reach, value: Any, shown: list[str]) -> None:
    place = " × ".join(shown)
    if (value is _ABSENT or value is _GAP) and table.otherwise is not None:
        value = Withheld(table.otherwise)
    if value is None or value is _ABSENT:
        out.holes.append(place)
    elif value is _GAP:
        out.gaps.append(place)
    elif isinstance(value, Withheld):
        out.withheld.setdefault(value.reason, []).append(place)
    else:
        out.values.append(value)
