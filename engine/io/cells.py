"""Spreadsheet rows to records: headers by name or label, cells by declared type.

Input: a header row (field names or their labels, as in a unit's batch-import sheet) and
rows of cells (text from CSV; text, numbers or booleans from XLSX). Output: records the
validator understands. An empty cell is a field left out. A cell that cannot be read as
its field's type is passed on unchanged, so the record's error names the cell's value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.checking.model import FieldSpec, Model

TRUE_WORDS = {"true", "yes", "y", "1", "是", "√", "✓", "合格", "通过"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "×", "✗", "不合格", "未通过"}
_INTEGER = re.compile(r"[+-]?\d+(\.0*)?")
_LIST_SEPARATORS = re.compile(r"\s*[,，、;；]\s*")
COMMON = ("id", "person", "year", "kind")


def _as_number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "")) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def convert(value: Any, base: str) -> Any:
    """A cell read as a field of type `base` (int, number, bool, text, enum, set)."""
    if isinstance(value, float):
        value = Decimal(repr(value)) if value == value and abs(value) != float("inf") else value
    if not isinstance(value, str):
        if base == "text" and isinstance(value, int | Decimal) and not isinstance(value, bool):
            return str(value)
        return value
    text = value.strip()
    if base == "int" and _INTEGER.fullmatch(text):
        return int(Decimal(text))
    if base == "number":
        number = _as_number(text)
        return number if number is not None else text
    if base == "bool":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
    if base == "set":
        return [part for part in _LIST_SEPARATORS.split(text) if part]
    return text


class CellReader:
    """Reads rows of one sheet for a policy (or the policies of a set: their kinds and
    labels together, the later policy's where they differ)."""

    def __init__(self, models: list[Model]) -> None:
        self.words: dict[str, str] = {name: name for name in COMMON}
        self.kinds: dict[str, dict[str, FieldSpec]] = {}
        for model in models:
            self._add(model)

    def _add(self, model: Model) -> None:
        for name in COMMON:
            label = model.symbols.headings.get(name)
            if label:
                self.words[label] = name
        for kind in model.kinds.values():
            self.kinds[kind.name] = kind.fields
            if kind.label:
                self.kinds[kind.label] = kind.fields
            for spec in kind.fields.values():
                self.words.setdefault(spec.name, spec.name)
                if spec.label:
                    self.words.setdefault(spec.label, spec.name)

    def header(self, cells: list[Any]) -> list[str]:
        """Column names: a known name or label becomes the field's name; others stay."""
        out = []
        for cell in cells:
            word = "" if cell is None else str(cell).strip()
            out.append(self.words.get(word, word))
        return out

    def record(self, names: list[str], cells: list[Any]) -> dict[str, Any]:
        raw = {
            name: cell
            for name, cell in zip(names, cells, strict=False)
            if name and cell is not None and not (isinstance(cell, str) and not cell.strip())
        }
        if "kind" in raw:
            raw["kind"] = convert(raw["kind"], "text")
        if "year" in raw:
            raw["year"] = convert(raw["year"], "int")
        for name in ("person", "id"):
            if name in raw:
                raw[name] = convert(raw[name], "text")
        fields = self.kinds.get(raw.get("kind"))  # type: ignore[arg-type]
        if fields:
            for name, spec in fields.items():
                if name in raw:
                    raw[name] = convert(raw[name], spec.ty.base)
        return raw
