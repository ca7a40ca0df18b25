"""Reading records from files and streams, lazily and without losing one.

Input: a path (`.jsonl`, `.json`, `.yaml`/`.yml`, `.csv`, `.xlsx`) or a stream of JSON
Lines. Output: `(position, record)` pairs in input order, where position is the 1-based
line (JSON Lines), item number (JSON, YAML) or sheet row (CSV, XLSX; the header is row 1).
An item that cannot be read (not JSON, not UTF-8) stays in its place as an `Unreadable`
with the reason, so N inputs always give N results. A reader given a row limit stops at
it while streaming; a workbook's zip directory is checked before anything is unpacked.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

from engine.io.cells import CellReader
from engine.running.jsonout import loads
from engine.running.records import Unreadable
from engine.syntax.limits import MAX_CELL, MAX_LINE, MAX_RATIO, MAX_UNZIPPED, RATIO_FROM

Numbered = Iterator[tuple[int, Any]]
FORMATS = (".jsonl", ".ndjson", ".json", ".yaml", ".yml", ".csv", ".xlsx")


class InputError(Exception):
    """A whole input that cannot be read (missing file, bad JSON array, unknown type)."""


class TooManyRows(InputError):
    """An input with more rows (lines, items) than the reader was allowed to take."""


def _too_many(what: str, limit: int, unit: str) -> TooManyRows:
    return TooManyRows(f"{what} has more than {limit:,} {unit}, the most that may be read at once")


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


def json_lines(stream: BinaryIO, limit: int | None = None, name: str = "the input") -> Numbered:
    """One record per non-blank line; a line that is not JSON becomes `Unreadable`. More
    than `limit` lines stop the input (`TooManyRows`) before the next is read."""
    for number, raw in enumerate(_lines(stream), 1):
        if limit is not None and number > limit:
            raise _too_many(name, limit, "lines")
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


def _items(data: Any, what: str, limit: int | None) -> Numbered:
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError(f"{what} must hold a list of records")
    if limit is not None and len(data) > limit:
        raise _too_many(what, limit, "records")
    yield from enumerate(data, 1)


Tick = Callable[[float], None]  # told how much of the input has been read (0..1)


def _ticking(items: Numbered, where: Callable[[], float], tick: Tick | None) -> Numbered:
    for count, item in enumerate(items):
        if tick is not None and count % 512 == 0:
            tick(where())
        yield item


def read_records(
    path: Path,
    cells: CellReader | None = None,
    sheet: str | None = None,
    tick: Tick | None = None,
    limit: int | None = None,
) -> Numbered:
    """The records of a file, chosen by its extension; CSV and XLSX need `cells`. With a
    `limit`, a file of more rows (lines, items; a sheet's header not counted) is refused
    with `TooManyRows` as soon as the reader passes it."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"`{path}`: unknown file type `{suffix}`; use one of {', '.join(FORMATS)}")
    if suffix in (".csv", ".xlsx") and cells is None:
        raise InputError(f"`{path}`: reading {suffix} needs the policy's field names")
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open("rb") as stream:
                size = max(1, path.stat().st_size)
                lines = json_lines(stream, limit, f"`{path}`")
                yield from _ticking(lines, lambda: stream.tell() / size, tick)
            return
        if suffix == ".csv":
            yield from _csv(path, cells, tick, limit)  # type: ignore[arg-type]
            return
        if suffix == ".xlsx":
            yield from _xlsx(path, cells, sheet, tick, limit)  # type: ignore[arg-type]
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
    yield from _items(data, f"`{path}`", limit)


_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte the decoder could not read, kept as is
_WIDE = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a character read from several bytes


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without a BOM) unless the first bytes read better as GB 18030, the
    encoding Excel uses for CSV on Chinese Windows. A few bad bytes among UTF-8 text are
    errors in their rows, not a reason to read the whole file another way."""
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head)
    bad = len(_ESCAPED.findall(text))
    if bad == 0 or len(_WIDE.findall(text)) > bad:
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head)
    except UnicodeDecodeError:
        return "utf-8-sig"
    return "gb18030"


def _not_text(row: list[str], encoding: str, names: list[str]) -> str | None:
    """Why a row is not text in `encoding` (the first byte it could not read, and where),
    or None if it is."""
    for column, cell in enumerate(row, 1):
        found = _ESCAPED.search(cell)
        if found is not None:
            name = names[column - 1] if column <= len(names) and names[column - 1] else ""
            where = f"`{name}`" if name else str(column)
            byte = ord(found.group()) - 0xDC00
            return f"is not {_NAMES[encoding]} text: byte 0x{byte:02x} in column {where}"
    return None


_NAMES = {"utf-8-sig": "UTF-8", "gb18030": "GB 18030"}


def _csv(path: Path, cells: CellReader, tick: Tick | None, limit: int | None) -> Numbered:
    with path.open("rb") as raw:
        encoding = _encoding(raw.read(65536))
        raw.seek(0)
        size = max(1, path.stat().st_size)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        rows = _csv_rows(csv.reader(text), path, limit)
        first = next(rows, [])
        why = _not_text(first, encoding, [])
        if why is not None:
            raise InputError(f"`{path}`: the header row {why}")
        header = cells.header(first)

        def numbered() -> Numbered:
            for number, row in enumerate(rows, 2):
                if not any(cell.strip() for cell in row):
                    continue
                why = _not_text(row, encoding, first)
                if why is None:
                    yield number, cells.record(header, row)
                else:
                    yield number, Unreadable(f"row {number} {why}")

        yield from _ticking(numbered(), lambda: raw.tell() / size, tick)


def _csv_rows(rows: Iterator[list[str]], path: Path, limit: int | None) -> Iterator[list[str]]:
    """The rows; a cell over `MAX_CELL` characters (a file that is not a unit's sheet)
    stops the file with its row named, rather than being read on as other rows; so does
    a row past `limit` (the header not counted)."""
    number = 0
    while True:
        number += 1
        if limit is not None and number > limit + 1:
            raise _too_many(f"`{path}`", limit, "rows")
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            raise InputError(f"`{path}` row {number}: {error}") from None
        if any(len(cell) > MAX_CELL for cell in row):
            raise InputError(f"`{path}` row {number}: a cell has more than {MAX_CELL:,} characters")
        yield row


# what openpyxl and the zip reader raise on a damaged workbook (XML that does not parse,
# entities refused by defusedxml, a part missing or not what its directory says)
_BROKEN = (zipfile.BadZipFile, zlib.error, OSError, EOFError, SyntaxError, LookupError,
           ValueError, TypeError, AttributeError)  # fmt: skip


def _broken(path: Path, error: Exception) -> InputError:
    if isinstance(error, DefusedXmlException):
        reason = "its XML declares entities or refers to other files, which is not allowed"
    else:
        reason = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return InputError(f"`{path}`: the workbook cannot be read: {reason or type(error).__name__}")


def _check_parts(path: Path) -> None:
    """Refuse a workbook whose zip directory says a part unpacks to too much, or to too
    many times its packed size (a zip bomb), before anything is unpacked. (The zip reader
    never unpacks more than the directory says: a part that would is a damaged file.)"""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as error:
        raise InputError(f"`{path}` is not an .xlsx workbook: {error}") from None
    for part in parts:
        size, packed = part.file_size, max(1, part.compress_size)
        if size > MAX_UNZIPPED:
            raise InputError(
                f"`{path}` is refused: its part `{part.filename}` unpacks to {size:,} bytes, "
                f"over the limit of {MAX_UNZIPPED:,} bytes for one part"
            )
        if size > RATIO_FROM and size > MAX_RATIO * packed:
            raise InputError(
                f"`{path}` is refused: its part `{part.filename}` unpacks to {size // packed:,} "
                f"times its packed size, over the limit of {MAX_RATIO} times (a zip bomb)"
            )


def _xlsx(
    path: Path, cells: CellReader, sheet: str | None, tick: Tick | None, limit: int | None
) -> Numbered:
    _check_parts(path)
    try:
        book = _open_book(path)
    except _BROKEN as error:
        raise _broken(path, error) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            names = ", ".join(book.sheetnames)
            raise InputError(f"`{path}` has no sheet `{sheet}`; it has: {names}")
        if not book.worksheets:
            raise InputError(f"`{path}` has no sheet")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        yield from _sheet(ws, path, cells, tick, limit)
    except _BROKEN as error:
        raise _broken(path, error) from None
    finally:
        book.close()


def _open_book(path: Path) -> Any:
    """The workbook in openpyxl's read-only mode, but with its sheets left unread until
    they are iterated: openpyxl's own load parses every sheet that has no `dimension`
    from end to end, only to size it, before a row can be counted."""
    from openpyxl.reader.excel import ExcelReader  # only for spreadsheets: a slow import
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        source: Any = None  # the part being read, for progress

        def _get_size(self) -> None:
            """Unsized: rows are counted as they are read."""

        def _get_source(self) -> Any:
            self.source = super()._get_source()
            return self.source

        def done(self) -> float:
            size = self.parent._archive.getinfo(self._worksheet_path).file_size
            return float(self.source.tell()) / max(1, size) if self.source else 0.0

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                    self.wb._sheets.append(ws)

    reader = Reader(path, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _sheet(
    ws: Any, path: Path, cells: CellReader, tick: Tick | None, limit: int | None
) -> Numbered:
    """A sheet's rows, as wide as its header (a cell far to the right makes no row
    wider), stopped after `limit` rows (blank ones too). Only the header's named columns
    are looked at cell by cell, however far a stray header cell stretches the rows."""
    names = list(next(ws.iter_rows(max_row=1, values_only=True), ()))
    while names and (names[-1] is None or not str(names[-1]).strip()):
        names.pop()
    header = cells.header(names)
    named = [i for i, name in enumerate(header) if name]
    header = [header[i] for i in named]
    rows = ws.iter_rows(min_row=2, max_col=max(1, len(names)), values_only=True)

    def numbered() -> Numbered:
        for number, row in enumerate(rows, 2):
            if limit is not None and number > limit + 1:
                raise _too_many(f"`{path}`", limit, "rows")
            if row.count(None) < len(row) and any(c is not None and str(c).strip() for c in row):
                yield number, cells.record(header, [row[i] for i in named])

    yield from _ticking(numbered(), ws.done, tick)
