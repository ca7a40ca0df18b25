"""Decision tables: the grid as written, checked and resolved to look-up data.

Input: an `ast.Table` and the policy's symbols. Output: a `TableSpec` (cells keyed by
canonical members, or number brackets in order) and diagnostics: unknown or repeated
headers, rows whose length differs from the header, values of the wrong type,
brackets that overlap or leave a gap between them, and rows that split a base's bracket
row without covering exactly its range.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from engine.checking.model import TableSpec
from engine.checking.symbols import Symbols
from engine.checking.types import BOOL, INT, NUMBER, TEXT, Interval, Ty, gaps, overlaps
from engine.syntax import ast
from engine.syntax.ast import header_word
from engine.syntax.diagnostics import Diagnostic, did_you_mean
from engine.syntax.printer import cell_text

SCALAR_TYPES = {"int": INT, "number": NUMBER, "bool": BOOL, "text": TEXT}


def resolve_scalar_or_enum(name: str, symbols: Symbols) -> Ty | None:
    if name in SCALAR_TYPES:
        return SCALAR_TYPES[name]
    if name in symbols.enums:
        return Ty("enum", name)
    return None


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
        keys = [self._type(k.type, k.span) for k in t.keys]
        value_type = self._type(t.value_type, t.span)
        if None in keys or value_type is None:
            return None
        key_types = tuple(k for k in keys if k is not None)
        if len(key_types) == 2 and any(k.numeric for k in key_types):
            self.error(
                "table-shape",
                "a table keyed by a number has one key",
                t.span,
                "use a one-key bracket table, or key the grid by enums",
            )
            return None
        spec = TableSpec(
            t.name, key_types, value_type, cite=t.cite, span=t.span, key_name=t.keys[0].name
        )
        header, *rows = t.rows
        columns = self._columns(header, key_types)
        width = len(header.cells)
        seen: dict[Any, ast.Row] = {}
        for row in rows:
            if len(row.cells) != width:
                self.error(
                    "row-length",
                    f"this row has {_values(len(row.cells) - 1)}; the header "
                    f"has {_values(width - 1)}",
                    row.span,
                )
                continue
            key = self._row_key(row.cells[0], key_types[0])
            if key is None:
                continue
            if key in seen:
                self.error(
                    "duplicate-row",
                    "this row repeats an earlier row's key",
                    row.cells[0].span,
                    f"the same key is at line {seen[key].span.line}",
                )
                continue
            seen[key] = row
            cites = row.cites or (None,) * len(columns)
            for column, cell, cite in zip(columns, row.cells[1:], cites, strict=True):
                value = self._value(cell, value_type)
                if value is _HOLE or column is None:
                    continue
                where = len(spec.brackets) if spec.is_bracket else key
                if len(key_types) == 2:
                    where = (key, column)
                if cite is not None:
                    spec.cell_cites[where] = cite
                if spec.is_bracket:
                    spec.brackets.append((key, value))
                    spec.bracket_spans.append(row.span)
                else:
                    spec.cells[where] = value
                    spec.cell_spans[where] = cell.span
        if spec.is_bracket and not self._check_splits(seen, key_types[0] == INT):
            self._check_brackets(seen, key_types[0] == INT)
        return spec if not self.diags else None

    def _type(self, name: str, span: ast.Span) -> Ty | None:
        ty = resolve_scalar_or_enum(name, self.symbols)
        if ty is None:
            known = list(SCALAR_TYPES) + list(self.symbols.enums)
            self.error("unknown-name", f"unknown type `{name}`", span, did_you_mean(name, known))
        return ty

    def _columns(self, header: ast.Row, key_types: tuple[Ty, ...]) -> list[str | None]:
        if len(key_types) == 1:
            if len(header.cells) != 2:
                self.error(
                    "row-length",
                    "the header of a one-key table has two cells",
                    header.span,
                    "e.g. `| 刊号 | 级别 |`",
                )
            return [""]
        enum = key_types[1].enum or ""
        columns: list[str | None] = []
        for cell in header.cells[1:]:
            member = self._member(cell, enum)
            if member is not None and member in columns:
                self.error("duplicate-column", f"column `{member}` appears twice", cell.span)
                member = None
            columns.append(member)
        return columns

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

    def _row_key(self, cell: ast.Cell, ty: Ty) -> Any:
        if ty.base == "enum":
            return self._member(cell, ty.enum or "")
        if isinstance(cell, ast.Number):
            return Interval.point(cell.value)
        if isinstance(cell, ast.Bracket):
            return Interval(cell.low, cell.low_closed, cell.high, cell.high_closed)
        self.error(
            "type",
            "a row of a bracket table starts with a number or a range",
            cell.span,
            "e.g. `< 1`, `[1, 2)`, `>= 4` or `3`",
        )
        return None

    def _value(self, cell: ast.Cell, ty: Ty) -> Any:
        if isinstance(cell, ast.Hole):
            return _HOLE
        if ty.base == "enum":
            return self._member(cell, ty.enum or "") or _HOLE
        if ty.numeric and isinstance(cell, ast.Number):
            if ty == INT and isinstance(cell.value, Decimal):
                self.error("type", f"`{cell.value}` is not a whole number", cell.span)
            return cell.value
        if ty == BOOL and isinstance(cell, ast.Bool):
            return cell.value
        if ty == TEXT and isinstance(cell, ast.Text):
            return cell.value
        self.error("type", f"this cell must be {ty}", cell.span)
        return _HOLE

    def _check_splits(self, rows: dict[Interval, ast.Row], integer: bool) -> bool:
        """Rows that replace a base's row cover its range exactly; whether any did not."""
        x = self.table.keys[0].name or "the key"
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

    def _check_brackets(self, rows: dict[Interval, ast.Row], integer: bool) -> None:
        x = self.table.keys[0].name or "the key"
        ordered = sorted(rows, key=lambda b: (b.low is not None, b.low or 0, not b.low_closed))
        for a, b in itertools.pairwise(ordered):
            if overlaps(a, b, integer):
                self.error(
                    "bracket-overlap",
                    f"this row ({b.describe(x)}) overlaps the row {a.describe(x)}",
                    rows[b].cells[0].span,
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
            self.error("bracket-gap", f"no row covers {gap.describe(x)}", rows[after].cells[0].span)


_HOLE = object()


def _starts_after(piece: Interval, gap: Interval) -> bool:
    return piece.low is not None and gap.high is not None and piece.low >= gap.high


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def build_table(table: ast.Table, symbols: Symbols) -> tuple[TableSpec | None, list[Diagnostic]]:
    builder = _TableBuilder(table, symbols)
    spec = builder.build()
    return spec, builder.diags
