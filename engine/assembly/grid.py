"""A table's cells keyed by what its rows and columns mean, for changing them.

Input: an `ast.Table` and the enums its keys name. Output: the table with cells
changed (`override`) or rows and columns added (`extend`), each change reported as
(where, old cell or None, new cell). A grid (two keys) has rows and columns; a list (one
key, or three and more) has rows keyed by one cell per key and one column of values. A
header may name a member by name or label and a number key is matched as written
(`>= 4`, `[1, 2)`), so a change reads like the table.
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
        self.added_by: dict[Any, ast.Span] = {}  # a new row or column -> the change adding it
        columns = list(self.columns)
        for row in rows:
            key = self._row_key(row.cells[: self.width], check=False)
            self.rows.setdefault(key, (row.cells[: self.width], row.span))
            for column, cell in zip(columns, row.cells[self.width :], strict=False):
                self.cells.setdefault((key, column), cell)

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
    def apply(self, rows: tuple[ast.Row, ...], adds: bool) -> list[tuple[Where, Any, ast.Cell]]:
        """Set the cells a grid of changes names (its first row is its header)."""
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
            self.cells[where] = cell
        return changes

    def _allowed(self, where: Where, cell: ast.Cell, adds: bool) -> None:
        row = where[0]
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
        self, keys: tuple[ast.Cell, ...], value: ast.Cell, span: ast.Span
    ) -> tuple[Where, Any, ast.Cell]:
        """`override table T[row, column] = value` (a list's row: `T[a, b, c] = value`)."""
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
        self.cells[where] = value
        return where, old, value

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
            rows.append(ast.Row((*row_cells, *cells), span=span))
        return dataclasses.replace(self.source, rows=tuple(rows))


def _text(key: Any) -> str:
    return key if isinstance(key, str) else cell_text(key)
