"""JSON text with exact decimals.

`dumps` writes `Decimal` values as JSON numbers with exactly their digits (never via a
lossy binary float, never with an exponent: `0.0000000000002`, not `2e-13`) and escapes
U+2028 and U+2029, which readers that split lines as Python's `str.splitlines` does would
take for line ends; `loads` reads numbers with a fraction or exponent as `Decimal` and
refuses `NaN` and `Infinity`, which JSON does not have.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


class _Inexact(Exception):
    pass


def _as_float(value: Any) -> float:
    """A Decimal whose shortest float text is its own digits, without an exponent (so
    JSON prints it exactly as it is)."""
    if type(value) is Decimal and value.is_finite():
        as_float = float(value)
        if (1e-4 <= abs(as_float) < 1e16 or not as_float) and Decimal(repr(as_float)) == value:
            return as_float
        raise _Inexact
    if isinstance(value, frozenset | set):
        return sorted(value)  # type: ignore[return-value]
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    """One line of JSON; decimals keep every digit. A result's trace, last, is written
    from its steps' JSON, each made once: steps are shared between results."""
    if type(value) is dict and value.get("trace") and next(reversed(value)) == "trace":
        return _one_line(_result(value))
    return _one_line(_dumps(value))


def _one_line(text: str) -> str:
    """JSON with U+2028 and U+2029 escaped: they can only be in its strings, and a text
    of ASCII or Latin-1 alone is known not to hold them without a look."""
    if "\u2028" in text or "\u2029" in text:
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def pretty(value: Any) -> str:
    """Indented JSON for people to read (numbers as `dumps` writes them)."""
    return _one_line(json.dumps(json.loads(dumps(value)), ensure_ascii=False, indent=2))


_KEYS: dict[str, str] = {}  # "amount" -> '"amount": '


def _result(value: dict[str, Any]) -> str:
    """A result: texts and whole numbers written directly, each step's JSON made once."""
    parts = [_key(k) + scalar_text(v) for k, v in value.items() if k != "trace"]
    return "{" + ", ".join(parts) + f', "trace": {trace_text(value["trace"])}}}'


def trace_text(trace: list[Any]) -> str:
    """A trace's JSON: its steps' texts, each made once (steps are shared, read-only)."""
    return _one_line("[" + ", ".join([_step_text(step) for step in trace]) + "]")


def scalar_text(value: Any) -> str:
    """A value's JSON: a text or a whole number directly, anything else by the encoder."""
    kind = type(value)
    if kind is str:
        return _one_line(_string(value))
    if kind is int:
        return str(value)
    return _one_line(_dumps(value))


def _key(key: str) -> str:
    text = _KEYS.get(key)
    if text is None:
        text = _KEYS[key] = _string(key) + ": "
    return text


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_as_float)
_string = json.encoder.encode_basestring
# the C encoder made once (`JSONEncoder.encode` makes one per call); the values written
# here hold no cycles, so it is made without the check for them
_C_MAKE = json.encoder.c_make_encoder  # type: ignore[attr-defined]
_C_ENCODER = (
    _C_MAKE(None, _as_float, _string, None, ": ", ", ", False, False, False) if _C_MAKE else None
)


def _dumps(value: Any) -> str:
    try:
        if _C_ENCODER is not None:
            return "".join(_C_ENCODER(value, 0))
        return _ENCODER.encode(value)
    except _Inexact:
        return _slow(value)


def _step_text(step: Any) -> str:
    text = getattr(step, "text", None)
    if text is None:
        text = _dumps(step)
        if hasattr(step, "text"):
            step.text = text
    return text


def decimal_text(value: Decimal) -> str:
    """A decimal's digits without an exponent (`0.0000000000002`), unless it is more than
    50 places from the point, as no valid record or result is: written out, a 5-byte
    `1E+999999` would take a megabyte."""
    if value.is_finite() and abs(value.adjusted()) < 50:
        return format(value, "f")
    return str(value)


def _slow(value: Any) -> str:
    if type(value) is Decimal:
        return decimal_text(value)
    if isinstance(value, dict):
        items = (json.dumps(str(k), ensure_ascii=False) + ": " + _slow(v) for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_slow(v) for v in value) + "]"
    return _dumps(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)


def loads(text: str) -> Any:
    """Parse JSON with exact decimals; `ValueError` for what is not JSON, or is nested
    deeper than the interpreter can follow."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as error:
        if "integer string conversion" in str(error):  # Python's own limit on digits
            raise ValueError("a number has more digits than any record may have") from None
        raise
