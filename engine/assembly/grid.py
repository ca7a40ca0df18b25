"""A table's cells keyed by what its rows and columns mean, for changing them.

Input: an `ast.Table` and the enums its keys name. Output: the table with cells
changed (`override`), a bracket row split into several, or rows and columns added
(`extend`), each change reported as (where, old cell or None, new cell). A grid (two
keys) has rows and columns; a list (one key, or three and more) has rows keyed by one
cell per key and one column of values. A header may name a member by name or label and
a number key is matched as written (`>= 4`, `[1, 2)`), so a change reads like the table.
A change's own `cite` goes with the cells it sets (`Row.cites`); whether a split's rows
cover the row they replace is the checker's (`Row.splits`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.syntax import ast
from engine.syntax.ast import header_word
from engine.syntax.diagnostics import did_you_mean
from engine.syntax.printer import cell_text

VALUE = ("value",)  # the one column of a list table
Where = tuple[Any, Any]  # (row key, column key)


class GridError(Exception):
    def __init__(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.span, self.help = code, message, span, help


class Grid:
    def __init__(self, table: ast.Table, enums: dict[str, ast.Enum]) -> None:
        self.name = table.name
        self.source = table
        self.enums = [enums.get(k.type) for k in table.keys]
        self.width = table.key_cells  # the key cells that start a row
        header, *rows = table.rows
        self.title = header.cells[0]
        self.header_span = header.span
        self.captions = header.cells[: self.width]  # a list's key columns, a grid's title
        self.columns: dict[Any, ast.Cell] = {}  # column key -> its header cell
        if self.width == 1 and len(table.keys) == 2:
            for cell in header.cells[1:]:
                self.columns[self._key(cell, 1)] = cell
        else:
            cells = header.cells
            self.columns[VALUE] = cells[self.width] if len(cells) > self.width else self.title
        self.rows: dict[Any, tuple[tuple[ast.Cell, ...], ast.Span]] = {}  # key -> cells, span
        self.cells: dict[Where, ast.Cell] = {}
        self.cites: dict[Where, ast.Cite] = {}  # a cell's own citation, where it has one
        self.splits: dict[Any, ast.Bracket] = {}  # a new row -> the row it is part of
        self.split_away: dict[Any, ast.Span] = {}  # a split row -> the change splitting it
        self.added_by: dict[Any, ast.Span] = {}  # a new row or column -> the change adding it
        self.bracket = len(table.keys) == 1 and table.keys[0].type in ("int", "number")
        columns = list(self.columns)
        for row in rows:
            key = self._row_key(row.cells[: self.width], check=False)
            self.rows.setdefault(key, (row.cells[: self.width], row.span))
            for column, cell in zip(columns, row.cells[self.width :], strict=False):
                self.cells.setdefault((key, column), cell)
            for column, cite in zip(columns, row.cites, strict=False):
                if cite is not None:
                    self.cites.setdefault((key, column), cite)

    @property
    def is_grid(self) -> bool:
        return len(self.enums) == 2

    def _key(self, cell: ast.Cell, axis: int) -> Any:
        """A header cell's meaning: the member it names (name or label), or the number or
        bracket as written; a word no member has stays as written."""
        enum = self.enums[axis]
        word = header_word(cell)
        if enum is None or word is None:
            return cell
        for m in enum.members:
            if word in (m.name, m.label):
                return m.name
        return ("?", word)

    def _member(self, cell: ast.Cell, axis: int) -> Any:
        key = self._key(cell, axis)
        enum = self.enums[axis]
        if isinstance(key, tuple) and key[0] == "?" and enum is not None:
            names = [m.name for m in enum.members] + [m.label for m in enum.members if m.label]
            raise GridError(
                "unknown-member",
                f"`{key[1]}` is not a member of `{enum.name}`",
                cell.span,
                did_you_mean(key[1], names),
            )
        return key

    def _row_key(self, cells: tuple[ast.Cell, ...], check: bool = True) -> Any:
        """A row's key: its one key cell's meaning, or (a list of several keys) a tuple."""
        read = self._member if check else self._key
        keys = tuple(read(cell, axis) for axis, cell in enumerate(cells))
        return keys[0] if len(keys) == 1 else keys

    def show(self, where: Where) -> str:
        row, column = where
        parts = row if isinstance(row, tuple) and self.width > 1 else (row,)
        texts = [_text(p) for p in parts]
        if column != VALUE:
            texts.append(_text(column))
        return f"[{', '.join(texts)}]"

    # ── changes ────────────────────────────────────────────────────────────
    def apply(
        self, rows: tuple[ast.Row, ...], adds: bool, cite: ast.Cite | None = None
    ) -> list[tuple[Where, Any, ast.Cell]]:
        """Set the cells a grid of changes names (its first row is its header), citing
        `cite` (None: the table's)."""
        header, *body = rows
        if self.is_grid:
            columns = [(self._member(c, 1), c) for c in header.cells[1:]]
        elif len(header.cells) != self.width + 1:
            values = (
                "one column of values"
                if self.width == 1
                else (f"{self.width} key columns and one of values")
            )
            raise GridError(
                "row-length",
                f"table `{self.name}` has {values}; "
                f"this header has {len(header.cells) - self.width}",
                header.span,
            )
        else:
            columns = [(VALUE, header.cells[self.width])]
        planned: list[tuple[Where, tuple[ast.Cell, ...], ast.Cell, ast.Span]] = []
        for row in body:
            if len(row.cells) != len(header.cells):
                raise GridError(
                    "row-length",
                    f"this row has {len(row.cells) - self.width} values; the "
                    f"header has {len(header.cells) - self.width}",
                    row.span,
                )
            key = self._row_key(row.cells[: self.width])
            cells = row.cells[self.width :]
            for (column, column_cell), cell in zip(columns, cells, strict=True):
                planned.append(((key, column), row.cells[: self.width], column_cell, row.span))
                self._allowed((key, column), cell, adds)
        changes = []
        new_cells = [c for r in body for c in r.cells[self.width :]]
        for (where, row_cells, column_cell, span), cell in zip(planned, new_cells, strict=True):
            for key, table in ((where[0], self.rows), (where[1], self.columns)):
                if key not in table:
                    self.added_by[key] = span
            self.rows.setdefault(where[0], (row_cells, span))
            self.columns.setdefault(where[1], column_cell)
            changes.append((where, self.cells.get(where), cell))
            self._set(where, cell, cite)
        return changes

    def _set(self, where: Where, cell: ast.Cell, cite: ast.Cite | None) -> None:
        self.cells[where] = cell
        if cite is None:
            self.cites.pop(where, None)
        else:
            self.cites[where] = cite

    def _allowed(self, where: Where, cell: ast.Cell, adds: bool) -> None:
        row = where[0]
        if row in self.split_away:
            at = self.split_away[row]
            raise GridError(
                "override-conflict",
                f"row `{self.name}{self.show(where)}` is split at {at.file}:{at.line}",
                cell.span,
                "change the rows that replace it there",
            )
        if where in self.cells:
            if adds:
                old = cell_text(self.cells[where])
                raise GridError(
                    "extend-existing",
                    f"`{self.name}{self.show(where)}` already has a value ({old})",
                    cell.span,
                    f"to change it, write `override table {self.name} {{ … }}`",
                )
            return
        if adds:
            return
        missing = "row" if row not in self.rows else "column"
        text = self.show(where)
        written = [f"{self.name}{self.show(w)}" for w in self.cells]
        hint = did_you_mean(f"{self.name}{text}", written)
        add = f"to add a {missing}, write `extend table {self.name} {{ … }}`"
        raise GridError(
            "override-missing",
            f"table `{self.name}` has no {missing} for `{self.name}{text}`",
            cell.span,
            f"{hint} {add}" if hint else add,
        )

    def set_cell(
        self,
        keys: tuple[ast.Cell, ...],
        value: ast.Cell,
        span: ast.Span,
        cite: ast.Cite | None = None,
    ) -> tuple[Where, Any, ast.Cell]:
        """`override table T[row, column] = value cite "…"` (a list's row:
        `T[a, b, c] = value`)."""
        if len(keys) != len(self.enums):
            raise GridError(
                "arity",
                f"table `{self.name}` has {len(self.enums)} "
                f"key{'s' if len(self.enums) > 1 else ''}; "
                f"this names {len(keys)}",
                span,
            )
        if self.is_grid:
            where = (self._member(keys[0], 0), self._member(keys[1], 1))
        else:
            where = (self._row_key(keys), VALUE)
        self._allowed(where, value, adds=False)
        old = self.cells[where]
        self._set(where, value, cite)
        return where, old, value

    def split(
        self, key: ast.Cell, rows: tuple[ast.Row, ...], cite: ast.Cite | None, span: ast.Span
    ) -> list[tuple[Where, Any, ast.Cell]]:
        """`override table T[>= 4] = { | [4, 6) | 35 | | >= 6 | 40 | }`: the row replaced,
        in its place, by the rows given (each a range and its value)."""
        if not self.bracket:
            raise GridError(
                "split-range",
                f"table `{self.name}` is not a bracket table; only a row of ranges can be split",
                span,
                f"to change the row's value, write `override table {self.name}[…] = VALUE`",
            )
        old_where = (self._key(key, 0), VALUE)
        self._allowed(old_where, key, adds=False)
        for row in rows:
            if len(row.cells) != 2:
                raise GridError(
                    "row-length",
                    f"a row of `{self.name}` is a range and its value; this row has "
                    f"{len(row.cells)} cells",
                    row.span,
                )
            if row.cells[0] in self.rows and row.cells[0] != old_where[0]:
                raise GridError(
                    "duplicate-row",
                    f"`{cell_text(row.cells[0])}` is already a row of `{self.name}`",
                    row.cells[0].span,
                    f"the rows replacing `{cell_text(key)}` lie within it",
                )
        old = self.cells.pop(old_where)
        self.cites.pop(old_where, None)
        whole = _as_bracket(key)
        order = list(self.rows.items())
        at = [k for k, _ in order].index(old_where[0])
        new = [(row.cells[0], ((row.cells[0],), row.span)) for row in rows]
        self.rows = dict(order[:at] + new + order[at + 1 :])
        self.split_away[old_where[0]] = span
        changes = []
        for row in rows:
            where = (row.cells[0], VALUE)
            self._set(where, row.cells[1], cite)
            self.splits[row.cells[0]] = whole
            changes.append((where, old, row.cells[1]))
        return changes

    # ── the result ─────────────────────────────────────────────────────────
    def missing(self) -> list[Where]:
        return [(r, c) for r in self.rows for c in self.columns if (r, c) not in self.cells]

    def span_of(self, where: Where) -> ast.Span:
        """Where a missing cell's row or column was added."""
        row, column = where
        return self.added_by.get(column) or self.added_by.get(row) or self.rows[row][1]

    def header(self) -> list[ast.Cell]:
        """The header row: a grid's title and column keys, a list's captions."""
        return [*self.captions, *self.columns.values()]

    def table(self) -> ast.Table:
        """The changed table; a missing cell (reported by `missing`) is left a hole."""
        rows = [ast.Row(tuple(self.header()), span=self.header_span)]
        for key, (row_cells, span) in self.rows.items():
            cells = [self.cells.get((key, c), ast.Hole(span=span)) for c in self.columns]
            cites = tuple(self.cites.get((key, c)) for c in self.columns)
            rows.append(
                ast.Row(
                    (*row_cells, *cells),
                    span=span,
                    cites=cites if any(cites) else (),
                    splits=self.splits.get(key),
                )
            )
        return dataclasses.replace(self.source, rows=tuple(rows))


def _text(key: Any) -> str:
    return key if isinstance(key, str) else cell_text(key)


def _as_bracket(cell: ast.Cell) -> ast.Bracket:
    """A bracket row's key as a range (a single number `3` is `== 3`)."""
    if isinstance(cell, ast.Number):
        return ast.Bracket(cell.value, True, cell.value, True, span=cell.span)
    assert isinstance(cell, ast.Bracket)
    return cell
