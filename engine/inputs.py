"""Reading records from files and streams, lazily and without losing one.

Input: a path (`.jsonl`, `.json`, `.yaml`/`.yml`) or a text stream of JSON Lines.
Output: `(position, record)` pairs in input order, where position is the 1-based line
(JSON Lines) or item number. An item that cannot be read as JSON stays in its place
as an `Unreadable` with the reason, so N inputs always give N results.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from engine.jsonout import loads
from engine.records import Unreadable

Numbered = Iterator[tuple[int, Any]]
FORMATS = (".jsonl", ".ndjson", ".json", ".yaml", ".yml")


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


def read_records(path: Path) -> Numbered:
    """The records of a file, chosen by its extension."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"`{path}`: unknown file type `{suffix}`; use one of {', '.join(FORMATS)}")
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open("rb") as stream:
                yield from json_lines(stream)
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
