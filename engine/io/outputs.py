"""Writing results and reports: JSON Lines, CSV, XLSX and a terminal table.

Input: result or report rows, and the policy (for columns and labels). Output: a file
chosen by extension. Columns are known from the policy before the first row, so
writing streams. In CSV and XLSX nested values are flattened (`required.public`,
`error.code`) and a result's trace is left out; XLSX headers use the policy's labels.
Numbers are never written with an exponent. A record's text that a spreadsheet would
take for a formula stays text: in XLSX a text cell (shown with a quote prefix), in CSV
behind a `'` (OWASP's rule for CSV injection).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from engine.running.jsonout import decimal_text, dumps
from engine.running.protocol import Decides
from engine.syntax import ast
from engine.syntax.diagnostics import display_width

RESULT_COLUMNS = ["id", "person", "year", "kind", "regime", "unit", "category", "amount",
                  "counted", "reason", "error.code", "error.field", "error.message",
                  "policy", "version"]  # fmt: skip
OUTPUTS = (".jsonl", ".csv", ".xlsx")


def result_columns(policy: Decides) -> list[str]:
    """A result's columns; a `facts` kind's fields as `fact.FIELD` before the policy."""
    facts = [
        f"fact.{name}"
        for m in policy.members
        for kind in m.model.kinds.values()
        if kind.facts is not None
        for name in kind.fields
    ]
    at = RESULT_COLUMNS.index("policy")
    return [*RESULT_COLUMNS[:at], *dict.fromkeys(facts), *RESULT_COLUMNS[at:]]


def report_columns(policy: Decides) -> list[str]:
    """scope, who and when, every shown value, requirements and shortfalls, reasons,
    errors (for a set, those of every policy in it)."""
    shows: list[str] = []
    amounts: list[str] = []  # requirements in amounts: required and shortfall
    reasons: list[str] = []  # requirements that fail for a reason, and `facts` kinds
    summaries = [s for m in policy.members for s in _summaries(m.model)]
    for member in policy.members:
        for summary in _summaries(member.model):
            reasons += [k for k in summary.facts if _reasoned(member.model.kinds[k].facts)]
    for summary in summaries:
        for name in summary.shown:
            if name not in shows:
                shows.append(name)
        for stmt in summary.decl.body:
            name = getattr(stmt, "name", None)
            if isinstance(stmt, ast.Requirement) and name:
                (amounts if stmt.reason is None else reasons).append(name)
    single = any(
        isinstance(s, ast.Requirement) and s.name is None for n in summaries for s in n.decl.body
    )
    amounts, reasons = list(dict.fromkeys(amounts)), list(dict.fromkeys(reasons))
    return [
        "scope", "person", "year", "window", "regime", *shows,
        *(["required"] if single else []),
        *(f"required.{r}" for r in amounts), *(f"shortfall.{r}" for r in amounts),
        *(f"reasons.{r}" for r in reasons),
        "qualified", "id", "error.code", "error.field", "error.message", "policy", "version",
    ]  # fmt: skip


def _reasoned(facts: Any) -> bool:
    """Whether a `facts` kind can make a person-year fail, for a reason."""
    return facts.missing_reason is not None or (facts.several or ("",))[0] == "reason"


def _summaries(model: Any) -> list[Any]:
    return list(model.summaries.values()) + list(model.windows.values())


def labels(policy: Decides) -> dict[str, str]:
    """Column → label, from the policy's `labels` and the labels of shown values."""
    out: dict[str, str] = {}
    for member in policy.members:
        out.update(member.model.symbols.headings)
        for kind in member.model.kinds.values():
            if kind.facts is not None:
                out[f"reasons.{kind.name}"] = str(kind.label or kind.name)
                for field, spec in kind.fields.items():
                    out.setdefault(f"fact.{field}", spec.label or field)
    nodes = [n.decl for member in policy.members for n in _summaries(member.model)]
    for node in nodes:
        for stmt in node.body:
            name, label = getattr(stmt, "name", None), getattr(stmt, "label", None)
            if not (name and label):
                continue
            if isinstance(stmt, ast.Requirement) and stmt.reason is not None:
                out[f"reasons.{name}"] = label
            elif isinstance(stmt, ast.Requirement):
                for part in ("required", "shortfall"):
                    out[f"{part}.{name}"] = f"{label}{out.get(part, part)}"
            else:
                out.setdefault(name, label)
    return out


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "trace":
            continue
        if isinstance(value, dict):
            for inner, v in value.items():
                out[f"{key}.{inner}"] = v
        else:
            out[key] = value
    return out


class Writer:
    """Rows to a `.jsonl`, `.csv` or `.xlsx` file; `close` finishes the file."""

    def __init__(self, path: Path, columns: list[str], names: dict[str, str], report: bool):
        self.path, self.columns, self.report = path, columns, report
        self.suffix = path.suffix.lower()
        self._stream: TextIO | None = None
        if self.suffix in (".jsonl", ".csv"):
            encoding = "utf-8-sig" if self.suffix == ".csv" else "utf-8"
            self._stream = path.open("w", encoding=encoding, newline="")
            if self.suffix == ".csv":
                self._csv = csv.writer(self._stream)
                self._csv.writerow(columns)
            return
        import openpyxl

        self._book = openpyxl.Workbook(write_only=True)
        heading = [names.get(c, c) for c in columns]
        self._main = self._book.create_sheet("person-years" if report else "results")
        self._main.append(xlsx_row(self._main, heading))
        self._errors = self._book.create_sheet("errors") if report else self._main
        if report:
            errors = ("id", "error.code", "error.field", "error.message")
            self._errors.append(xlsx_row(self._errors, [names.get(c, c) for c in errors]))

    def write(self, row: dict[str, Any]) -> None:
        if self.suffix == ".jsonl":
            assert self._stream is not None
            self._stream.write(dumps(row) + "\n")
            return
        flat = flatten(row)
        if self.suffix == ".csv":
            self._csv.writerow([_cell(flat.get(c)) for c in self.columns])
        elif self.report and row.get("scope") == "error":
            columns = ("id", "error.code", "error.field", "error.message")
            self._errors.append(xlsx_row(self._errors, [flat.get(c) for c in columns]))
        else:
            self._main.append(xlsx_row(self._main, [flat.get(c) for c in self.columns]))

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        else:
            self._book.save(self.path)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may run


def _cell(value: Any) -> str:
    """A CSV cell: a text that could start a formula behind a `'`; numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    return plain_text(value)


def xlsx_value(value: Any) -> Any:
    """XLSX cells hold numbers as binary floats; decimals a float cannot hold go in as text."""
    if isinstance(value, Decimal):
        return float(value) if Decimal(repr(float(value))) == value else decimal_text(value)
    if isinstance(value, list | tuple):
        return plain_text(value)
    return value


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XLSX cannot hold
_ERROR_VALUES = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """Cells for a write-only sheet's `append`: numbers as numbers; a text as a text cell,
    never a formula or an error value (one that could be read as such is marked with a
    quote prefix, as Excel does for text typed after `'`)."""
    return [_xlsx_cell(sheet, value) for value in values]


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return xlsx_value(value)
    value = _ILLEGAL.sub("\ufffd", value)
    if not (value.startswith(FORMULA_START) or value in _ERROR_VALUES):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type, cell.quotePrefix = "s", True
    return cell


def table(
    rows: Iterable[dict[str, Any]],
    columns: list[str],
    names: dict[str, str],
    words: dict[str, str] | None = None,
) -> str:
    """Rows as an aligned text table (wide characters count as two columns); `words`:
    the labels of the reasons a `reasons.*` column gives."""
    grid = [[names.get(c, c) for c in columns]]
    words = words or {}
    for row in rows:
        flat = flatten(row)
        grid.append([
            words.get(v, v) if c.startswith("reasons.") and isinstance(v, str) else _text(v)
            for c, v in ((c, flat.get(c)) for c in columns)
        ])  # fmt: skip
    keep = [i for i in range(len(columns)) if any(r[i] for r in grid[1:])]
    grid = [[r[i] for i in keep] for r in grid]
    widths = [max(display_width(r[i]) for r in grid) for i in range(len(keep))]
    lines = []
    for n, r in enumerate(grid):
        cells = [c + " " * (w - display_width(c)) for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def reason_labels(policy: Decides) -> dict[str, str]:
    """Each reason's label, by name (a reason without one is its name)."""
    return {
        name: reason.label or name
        for m in policy.members
        for name, reason in m.model.symbols.reasons.items()
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return plain_text(value)


def plain_text(value: Any) -> str:
    """A value as text: numbers never with an exponent, lists joined with commas."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(plain_text(v) for v in value)
    return str(value)
