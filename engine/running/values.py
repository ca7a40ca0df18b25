"""Run-time values: exact arithmetic, `not counted`, and the steps of a trace.

Input: values produced by compiled closures (int, Decimal, str members, bool, frozenset,
`NotCounted`). Output: results' amounts (whole numbers as int, others as exact Decimal),
trace steps, and their text. Steps are read-only, so they can be shared.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from engine.checking.types import Interval


class NotCounted:
    """The value of `not counted REASON`."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"not counted {self.reason}"


class Credited:
    """A rule's amount credited to several years: `total`, and `parts` as (year, amount)."""

    __slots__ = ("parts", "total")

    def __init__(self, total: Any, parts: tuple[tuple[int, Any], ...]) -> None:
        self.total, self.parts = total, parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credited) and other.parts == self.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __repr__(self) -> str:
        return ", ".join(f"{amount} to {year}" for year, amount in self.parts)


class Fact:
    """The value of a `facts` kind's record: it gives facts and earns nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "fact"


FACT = Fact()


class Excluded(Exception):
    """Raised where a look-up lands on `— REASON` (or beyond a table, where it says
    `otherwise not counted REASON`): the rule's record is not counted, for that reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.outcome = NotCounted(reason)


def floordiv(a: Any, b: Any) -> int:
    if type(a) is int and type(b) is int:
        return a // b
    return int((Decimal(a) / Decimal(b)).to_integral_value(ROUND_FLOOR))


def floor_mod(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        return a % b
    return Decimal(a) - Decimal(b) * floordiv(a, b)


def divide(a: Any, b: Any) -> Decimal:
    return Decimal(a) / Decimal(b)


def rounded(a: Any, mode: str) -> int:
    """A number to a whole number, by a `decimal` rounding mode."""
    return a if type(a) is int else int(a.to_integral_value(mode))


def amount_value(value: Any) -> int | Decimal:
    """An amount as results show it: whole numbers as integers, else exact decimals."""
    if type(value) is int:
        return value
    number: Decimal = value
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()


def shown_value(value: Any) -> Any:
    """A value as a trace shows it (JSON-ready, exact)."""
    kind = type(value)
    if kind is int or kind is str or kind is bool:
        return value
    if kind is NotCounted:
        return f"not counted: {value.reason}"
    if kind is Decimal:
        return amount_value(value)
    if kind is frozenset:
        return sorted(value)
    if kind is Credited:
        return [{"year": year, "amount": amount_value(part)} for year, part in value.parts]
    return value_text(value)


class Step(dict[str, Any]):
    """One trace step — what was worked out, the clause it rests on, and the value.

    Steps are shared between results (the language is pure, so the same inputs always
    give the same step), hence read-only. `how` says what kind of step it is, for
    explanations: ("lookup", table, key), ("let", name, expr), ("when", condition,
    result), ("call", function, arguments), ("amount", expr) or ("require", name, condition).
    """

    __slots__ = ("how", "text")

    def __init__(self, how: tuple[Any, ...] = (), **entries: Any) -> None:
        dict.__init__(self, **entries)
        self.how = how
        self.text: str | None = None  # its JSON, made once (`engine.running.jsonout`)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles are plain (writable) dicts."""
        return (dict, (dict(self),))

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("trace steps are read-only; copy one with dict(step)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only  # type: ignore[assignment]
    __ior__ = _read_only  # type: ignore[assignment]


CACHE_LIMIT = 4096  # distinct values remembered per step or function


def step_maker(text: str, cite: str, how: tuple[Any, ...]) -> Callable[[Any], Step]:
    """The steps of one place in a policy, made once per distinct value."""
    made: dict[Any, Step] = {}

    def make(value: Any) -> Step:
        found = made.get(value)
        if found is None:
            found = Step(how, step=text, cite=cite, value=shown_value(value))
            if len(made) < CACHE_LIMIT:
                made[value] = found
        return found

    return make


def value_text(value: Any) -> str:
    kind = type(value)
    if kind is str or kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is Decimal:
        return format(amount_value(value), "f")
    return str(value)


def within(interval: Interval) -> Callable[[Any], bool]:
    """A fast test of membership in `interval`."""
    low, high = interval.low, interval.high
    lc, hc = interval.low_closed, interval.high_closed
    if low is None and high is None:
        return lambda v: True
    if high is None:
        return (lambda v: v >= low) if lc else (lambda v: v > low)
    if low is None:
        return (lambda v: v <= high) if hc else (lambda v: v < high)
    if lc and not hc:
        return lambda v: low <= v < high
    return lambda v: _in_interval(v, interval)


def _in_interval(value: Any, interval: Interval) -> bool:
    if interval.low is not None and (
        value < interval.low or (value == interval.low and not interval.low_closed)
    ):
        return False
    return (
        interval.high is None
        or value < interval.high
        or (value == interval.high and interval.high_closed)
    )
