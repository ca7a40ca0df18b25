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

from engine.io.cells import CellReader
from engine.running.jsonout import loads
from engine.running.records import Unreadable
from engine.syntax.limits import MAX_CELL, MAX_LINE

Numbered = Iterator[tuple[int, Any]]
FORMATS = (".jsonl", ".ndjson", ".json", ".yaml", ".yml", ".csv", ".xlsx")


class InputError(Exception):
    """A whole input that cannot be read (missing file, bad JSON array, unknown type)."""


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The lines of a stream; None for a line longer than `MAX_LINE`, which is skipped
    without being held in memory."""
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) <= MAX_LINE or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # the rest of the long line
            line = stream.readline(MAX_LINE)
        yield None


def json_lines(stream: BinaryIO) -> Numbered:
    """One record per non-blank line; a line that is not JSON becomes `Unreadable`."""
    for number, raw in enumerate(_lines(stream), 1):
        if raw is None:
            yield (
                number,
                Unreadable(
                    f"line {number} is longer than {MAX_LINE:,} bytes, the most one record may take"
                ),
            )
            continue
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield number, Unreadable(f"line {number} is not UTF-8 text: {error.reason}")
            continue
        if not line.strip(" \t\r\n"):  # blank as JSON counts it; any other character is a record
            continue
        try:
            yield number, loads(line)
        except ValueError as error:
            yield number, Unreadable(f"line {number} is not valid JSON: {_reason(error)}")


def _reason(error: ValueError) -> str:
    return str(error).split(": line")[0]


def yaml_values(value: Any, seen: dict[int, Any] | None = None) -> Any:
    """YAML floats to exact decimals (by their shortest text, which is what was written).
    A value that YAML shares (an alias) is converted once and stays shared, so that a
    few aliases cannot grow into a huge tree (the "billion laughs")."""
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else value
    if not isinstance(value, dict | list):
        return value
    seen = {} if seen is None else seen
    if id(value) in seen:
        return seen[id(value)]
    out: Any = {} if isinstance(value, dict) else []
    seen[id(value)] = out
    if isinstance(value, dict):
        out.update({k: yaml_values(v, seen) for k, v in value.items()})
    else:
        out.extend(yaml_values(v, seen) for v in value)
    return out


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
        except RecursionError:
            raise InputError(f"`{path}` is nested too deeply") from None
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
        rows = _csv_rows(csv.reader(text), path)
        header = cells.header(next(rows, []))
        numbered = (
            (number, cells.record(header, row))
            for number, row in enumerate(rows, 2)
            if any(cell.strip() for cell in row)
        )
        yield from _ticking(numbered, lambda: raw.tell() / size, tick)


def _csv_rows(rows: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    """The rows; a cell over `MAX_CELL` characters (a file that is not a unit's sheet)
    stops the file with its row named, rather than being read on as other rows."""
    number = 0
    while True:
        number += 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            raise InputError(f"`{path}` row {number}: {error}") from None
        if any(len(cell) > MAX_CELL for cell in row):
            raise InputError(f"`{path}` row {number}: a cell has more than {MAX_CELL:,} characters")
        yield row


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
