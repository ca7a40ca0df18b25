"""Static types and value domains, for the checker.

A `Ty` is a type (int, number, bool, text, an enum, a set of an enum, an amount, or
`uncounted`). An `Abstract` value adds what is known of its values: the members an
enum value can take, or the interval a number lies in. Domains drive the hole and gap
checks and narrow under `when`, `if`, `and` and `or`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

Num = int | Decimal

SCALARS = ("int", "number", "bool", "text", "amount")


@dataclass(frozen=True, slots=True)
class Ty:
    base: str  # int number bool text enum set amount uncounted error
    enum: str | None = None

    def __str__(self) -> str:
        if self.base == "enum":
            return f"`{self.enum}`"
        if self.base == "set":
            return f"a set of `{self.enum}`"
        return {
            "int": "an integer",
            "number": "a number",
            "bool": "a yes/no value",
            "text": "a text",
            "amount": "an amount",
            "uncounted": "`not counted`",
            "error": "an unknown type",
        }[self.base]

    @property
    def numeric(self) -> bool:
        return self.base in ("int", "number")


INT, NUMBER, BOOL, TEXT = Ty("int"), Ty("number"), Ty("bool"), Ty("text")
AMOUNT, UNCOUNTED, ERROR = Ty("amount"), Ty("uncounted"), Ty("error")


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of numbers; `None` is an infinite end."""

    low: Num | None = None
    low_closed: bool = False
    high: Num | None = None
    high_closed: bool = False

    @staticmethod
    def point(value: Num) -> Interval:
        return Interval(value, True, value, True)

    def describe(self, name: str) -> str:
        if self.low is not None and self.low == self.high:
            return f"{name} == {self.low}"
        parts = []
        if self.low is not None:
            parts.append(f"{name} {'>=' if self.low_closed else '>'} {self.low}".strip())
        if self.high is not None:
            parts.append(f"{name} {'<=' if self.high_closed else '<'} {self.high}".strip())
        return " and ".join(parts) or f"any {name}".strip()


EVERYTHING = Interval()


def intersect(a: Interval, b: Interval) -> Interval:
    low, low_closed = a.low, a.low_closed
    if b.low is not None and (low is None or b.low > low or (b.low == low and not b.low_closed)):
        low, low_closed = b.low, b.low_closed
    high, high_closed = a.high, a.high_closed
    if b.high is not None and (
        high is None or b.high < high or (b.high == high and not b.high_closed)
    ):
        high, high_closed = b.high, b.high_closed
    return Interval(low, low_closed, high, high_closed)


def is_empty(i: Interval, integer: bool = False) -> bool:
    if integer:
        low, high = _integer_ends(i)
        return low is not None and high is not None and low > high
    if i.low is None or i.high is None:
        return False
    return i.low > i.high or (i.low == i.high and not (i.low_closed and i.high_closed))


def hull(a: Interval, b: Interval) -> Interval:
    low, low_closed = a.low, a.low_closed
    if low is not None and (b.low is None or b.low < low or (b.low == low and b.low_closed)):
        low, low_closed = b.low, b.low_closed
    high, high_closed = a.high, a.high_closed
    if high is not None and (b.high is None or b.high > high or (b.high == high and b.high_closed)):
        high, high_closed = b.high, b.high_closed
    return Interval(low, low_closed, high, high_closed)


def from_comparison(op: str, value: Num) -> Interval | None:
    """The numbers `x` with `x op value`; None where no interval says it (`!=`)."""
    return {
        "<": Interval(None, False, value, False),
        "<=": Interval(None, False, value, True),
        ">": Interval(value, False, None, False),
        ">=": Interval(value, True, None, False),
        "==": Interval.point(value),
    }.get(op)


NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _integer_ends(i: Interval) -> tuple[int | None, int | None]:
    def floor(x: Num) -> int:
        return int(Decimal(x).to_integral_value(rounding="ROUND_FLOOR"))

    def ceil(x: Num) -> int:
        return int(Decimal(x).to_integral_value(rounding="ROUND_CEILING"))

    low = None if i.low is None else (ceil(i.low) if i.low_closed else floor(i.low) + 1)
    high = None if i.high is None else (floor(i.high) if i.high_closed else ceil(i.high) - 1)
    return low, high


def gaps(domain: Interval, pieces: list[Interval], integer: bool) -> list[Interval]:
    """The parts of `domain` that no piece covers (for integers, only whole numbers)."""
    if integer:
        return _integer_gaps(domain, pieces)
    out: list[Interval] = []
    cur, cur_closed = domain.low, domain.low_closed
    for piece in sorted(pieces, key=_lower_key):
        piece = intersect(piece, domain)
        if is_empty(piece):
            continue
        if _lower_key(piece) > _lower_key(Interval(cur, cur_closed)):
            out.append(Interval(cur, cur_closed, piece.low, not piece.low_closed))
        if piece.high is None:
            return out
        if cur is None or piece.high > cur or (piece.high == cur and piece.high_closed):
            cur, cur_closed = piece.high, not piece.high_closed
    rest = Interval(cur, cur_closed, domain.high, domain.high_closed)
    if not is_empty(rest):
        out.append(rest)
    return out


def _lower_key(i: Interval) -> tuple[int, Num, int]:
    if i.low is None:
        return (0, 0, 0)
    return (1, i.low, 0 if i.low_closed else 1)


def _integer_gaps(domain: Interval, pieces: list[Interval]) -> list[Interval]:
    low, high = _integer_ends(domain)
    ranges = sorted((_integer_ends(p) for p in pieces), key=lambda r: (r[0] is not None, r[0] or 0))
    out: list[Interval] = []
    cur = low
    for a, b in ranges:
        if a is not None and (cur is None or a > cur):
            end = a - 1 if high is None else min(a - 1, high)
            if cur is None or end >= cur:
                out.append(Interval(cur, cur is not None, end, True))
        if b is None:
            return out
        if cur is None or b + 1 > cur:
            cur = b + 1
        if high is not None and cur > high:
            return out
    if cur is None:
        return out
    if high is None or cur <= high:
        out.append(Interval(cur, True, high, high is not None))
    return out


def partition(domain: Interval, pieces: list[Interval], integer: bool) -> list[Interval]:
    """`domain` cut at every end of every piece, so that each part lies wholly inside or
    wholly outside each piece: the ends themselves, and the stretches between them (for
    integers, only parts with a whole number, written closed)."""
    ends = sorted({v for p in pieces for v in (p.low, p.high) if v is not None})
    parts = [Interval(None, False, ends[0], False)] if ends else [Interval()]
    for a, b in itertools.pairwise(ends):
        parts += [Interval.point(a), Interval(a, False, b, False)]
    if ends:
        parts += [Interval.point(ends[-1]), Interval(ends[-1], False, None, False)]
    out = []
    for part in parts:
        part = intersect(part, domain)
        if is_empty(part, integer):
            continue
        if integer:
            low, high = _integer_ends(part)
            part = Interval(low, low is not None, high, high is not None)
        out.append(part)
    return out


def overlaps(a: Interval, b: Interval, integer: bool) -> bool:
    return not is_empty(intersect(a, b), integer)


@dataclass(frozen=True, slots=True)
class Abstract:
    """A type and what is known of the value: members (enums, sets) or an interval."""

    ty: Ty
    members: frozenset[str] | None = None
    interval: Interval = EVERYTHING


def join(a: Ty, b: Ty) -> Ty | None:
    """The type of `if c then a else b`, or None where the branches do not agree."""
    if a == b:
        return a
    pair = {a.base, b.base}
    if pair == {"int", "number"}:
        return NUMBER
    if pair <= {"int", "number", "amount", "uncounted"}:
        return AMOUNT
    if "error" in pair:
        return ERROR
    return None


def fits(actual: Ty, expected: Ty) -> bool:
    """May a value of type `actual` stand where `expected` is asked?"""
    if actual == expected or "error" in (actual.base, expected.base):
        return True
    if expected.base == "number":
        return actual.base == "int"
    if expected.base == "amount":
        return actual.base in ("int", "number", "uncounted")
    return False
