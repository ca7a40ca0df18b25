"""Reading records from files and streams, lazily and without losing one.

Input: a path (`.jsonl`, `.json`, `.yaml`/`.yml`, `.csv`, `.xlsx`) or a stream of JSON
Lines. Output: `(position, record)` pairs in input order, where position is the 1-based
line (JSON Lines), item number (JSON, YAML) or sheet row (CSV, XLSX; the header is row 1).
An item that cannot be read as JSON stays in its place
as an `Unreadable` with the reason, so N inputs always give N results.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from engine.cells import CellReader
from engine.jsonout import loads
from engine.records import Unreadable

Numbered = Iterator[tuple[int, Any]]
FORMATS = (".jsonl", ".ndjson", ".json", ".yaml", ".yml", ".csv", ".xlsx")


class InputError(Exception):
    """A whole input that cannot be read (missing file, bad JSON array, unknown type)."""


def json_lines(stream: BinaryIO) -> Numbered:
    """One record per non-blank line; a line that is not JSON becomes `Unreadable`."""
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield number, Unreadable(f"line {number} is not UTF-8 text: {error.reason}")
            continue
        if not line.strip():
            continue
        try:
            yield number, loads(line)
        except ValueError as error:
            yield number, Unreadable(f"line {number} is not valid JSON: {_reason(error)}")


def _reason(error: ValueError) -> str:
    return str(error).split(": line")[0]


def yaml_values(value: Any) -> Any:
    """YAML floats to exact decimals (by their shortest text, which is what was written)."""
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else value
    if isinstance(value, dict):
        return {k: yaml_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_values(v) for v in value]
    return value


def _items(data: Any, what: str) -> Numbered:
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError(f"{what} must hold a list of records")
    yield from enumerate(data, 1)


Tick = Callable[[float], None]  # told how much of the input has been read (0..1)


def _ticking(items: Numbered, where: Callable[[], float], tick: Tick | None) -> Numbered:
    for count, item in enumerate(items):
        if tick is not None and count % 512 == 0:
            tick(where())
        yield item


def read_records(
    path: Path, cells: CellReader | None = None, sheet: str | None = None, tick: Tick | None = None
) -> Numbered:
    """The records of a file, chosen by its extension; CSV and XLSX need `cells`."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"`{path}`: unknown file type `{suffix}`; use one of {', '.join(FORMATS)}")
    if suffix in (".csv", ".xlsx") and cells is None:
        raise InputError(f"`{path}`: reading {suffix} needs the policy's field names")
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open("rb") as stream:
                size = max(1, path.stat().st_size)
                yield from _ticking(json_lines(stream), lambda: stream.tell() / size, tick)
            return
        if suffix == ".csv":
            yield from _csv(path, cells, tick)  # type: ignore[arg-type]
            return
        if suffix == ".xlsx":
            yield from _xlsx(path, cells, sheet, tick)  # type: ignore[arg-type]
            return
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read `{path}`: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"`{path}` is not UTF-8 text: {error.reason}") from None
    if suffix == ".json":
        try:
            data = loads(text)
        except ValueError as error:
            raise InputError(f"`{path}` is not valid JSON: {error}") from None
    else:
        try:
            data = yaml_values(yaml.safe_load(text))
        except yaml.YAMLError as error:
            raise InputError(f"`{path}` is not valid YAML: {error}") from None
    yield from _items(data, f"`{path}`")


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without a BOM) unless the bytes say otherwise; else GB 18030, the
    encoding Excel uses for CSV on Chinese Windows."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return "gb18030"
    return "utf-8-sig"


def _csv(path: Path, cells: CellReader, tick: Tick | None) -> Numbered:
    with path.open("rb") as raw:
        encoding = _encoding(raw.read(65536))
        raw.seek(0)
        size = max(1, path.stat().st_size)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        rows = csv.reader(text)
        header = cells.header(next(rows, []))
        numbered = (
            (number, cells.record(header, row))
            for number, row in enumerate(rows, 2)
            if any(cell.strip() for cell in row)
        )
        yield from _ticking(numbered, lambda: raw.tell() / size, tick)


def _xlsx(path: Path, cells: CellReader, sheet: str | None, tick: Tick | None) -> Numbered:
    import openpyxl  # only for spreadsheets: it takes a while to import

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise InputError(f"`{path}` is not an .xlsx workbook: {error}") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            names = ", ".join(book.sheetnames)
            raise InputError(f"`{path}` has no sheet `{sheet}`; it has: {names}")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        total = max(1, ws.max_row or 1)
        rows = ws.iter_rows(values_only=True)
        header = cells.header(list(next(rows, ())))
        done = [0]

        def numbered() -> Numbered:
            for number, row in enumerate(rows, 2):
                done[0] = number
                if any(c is not None and str(c).strip() for c in row):
                    yield number, cells.record(header, list(row))

        yield from _ticking(numbered(), lambda: done[0] / total, tick)
    finally:
        book.close()
