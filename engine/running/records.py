"""A record's one path: raw input to a typed `Decision`, and a decision to its result.

Input: a `Model` with its compiled programs, and raw records (JSON objects: dicts of
str, int, Decimal, bool, lists). Output: for a valid record a `Decision` — kind, id,
person, year, regime, checked field values (canonical enum names, exact numbers,
defaults filled in), the program, its value and trace — written into the contract's
result by `result_of`; for an invalid one a `RecordError` whose message names the
field, the value given and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from engine.assembly.inherit import Lineage
from engine.checking import tree
from engine.checking.model import FieldSpec, KindSpec, Model
from engine.checking.types import EVERYTHING
from engine.running.compile import Compiler, EvaluationError, OutOfRange, Program
from engine.running.values import FACT, Credited, NotCounted, amount_value
from engine.syntax import ast
from engine.syntax.limits import MAX_INTEGER_DIGITS, MAX_PLACES
from engine.syntax.printer import expr_text

INVALID, UNKNOWN_KIND, NO_POLICY = "invalid_record", "unknown_kind", "no_policy_in_force"


class RecordError(Exception):
    """A record the policy cannot evaluate: `code`, `field` (or None) and a message."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class Unreadable:
    """An input item that is not a record at all (e.g. a line that is not JSON)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def show(value: Any) -> str:
    """A value as the user wrote it, JSON style, with its kind when that helps."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = escaped(value if len(value) <= 40 else value[:40] + "…")
        return f'"{shown}" (a text)'
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        small = isinstance(exponent, int) and exponent > -30
        if value.is_finite() and abs(value.adjusted()) < 30 and small:
            return format(value, "f")
        return f"{value:.6E}" if value.is_finite() else str(value)
    if isinstance(value, int):
        if abs(value) < 10**30:
            return str(value)
        return f"an integer of {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_text(value: Any) -> bool:
    """A text that is Unicode through and through (JSON can carry a lone surrogate,
    `"\\ud800"`, which no UTF-8 output can write)."""
    if type(value) is not str:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escaped(text: str) -> str:
    """`text` with anything UTF-8 cannot write (a lone surrogate) as `\\udXXX`."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def allowed_text(spec: FieldSpec, labels: dict[str, str | None]) -> str:
    """What a field accepts, in words: `an integer >= 1`, `one of: a (标签), …`."""
    ty = spec.ty
    if ty.base == "enum" or ty.base == "set":
        members = ", ".join(
            f"{m} ({labels[m]})" if labels.get(m) else m for m in spec.members or ()
        )
        return ("one of: " if ty.base == "enum" else "a list of distinct members of: ") + members
    words = {"int": "an integer", "number": "a number", "bool": "true or false", "text": "a text"}
    text = words[ty.base]
    if ty.numeric and spec.interval != EVERYTHING:
        text += " " + spec.interval.describe("")
    return text


# Numbers in records are limited so that no decimal operation can run away in time or
# memory: at most 15 digits before the point and 12 after (a record's hours, words or
# months never come near it).
LIMIT = 10**MAX_INTEGER_DIGITS
LAST_YEAR = 9999  # no policy is in force after it


def _within_limits(value: int | Decimal) -> bool:
    return _beyond_limits(value) is None


def _beyond_limits(value: int | Decimal) -> str | None:
    """Which limit a number breaks, in words, or None."""
    if isinstance(value, int):
        too_large = not -LIMIT < value < LIMIT
    elif not value.is_finite():
        return "numbers are finite"
    else:
        too_large = value.adjusted() >= MAX_INTEGER_DIGITS
        if not too_large and _places(value) > MAX_PLACES:
            return f"numbers have at most {MAX_PLACES} decimal places"
    return f"numbers have at most {MAX_INTEGER_DIGITS} digits" if too_large else None


def _places(value: Decimal) -> int:
    """Digits after the decimal point, as written (`2.50` has 2)."""
    text = str(value)  # cheaper than as_tuple() for the usual short numbers
    if "E" in text:
        exponent = value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    point = text.find(".")
    return 0 if point < 0 else len(text) - point - 1


def _integer(value: Any) -> int | None:
    kind = type(value)
    if kind is int:
        return value if -LIMIT < value < LIMIT else None
    if kind is Decimal and value.is_finite() and value.adjusted() < MAX_INTEGER_DIGITS:
        return int(value) if value == value.to_integral_value() else None
    if kind is float and value.is_integer() and abs(value) < LIMIT:
        return int(value)
    return None


def _number(value: Any) -> int | Decimal | None:
    kind = type(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        value, kind = Decimal(repr(value)), Decimal
    if kind is int or (kind is Decimal and value.is_finite()):
        return value if _within_limits(value) else None
    return None


Converter = Callable[[Any], Any]
_MISSING = object()


def _converter(spec: FieldSpec, labels: dict[str, str | None]) -> Converter:
    """A function from a raw value to the field's value, raising `RecordError`."""
    name, allowed = spec.name, allowed_text(spec, labels)
    interval = spec.interval

    numeric = spec.ty.numeric

    def fail(value: Any) -> RecordError:
        broken = None
        if numeric and isinstance(value, int | Decimal) and not isinstance(value, bool):
            broken = _beyond_limits(value)
        limits = f" ({broken})" if broken else ""
        return RecordError(INVALID, f"`{name}` must be {allowed}; got {show(value)}{limits}", name)

    base = spec.ty.base
    if base in ("int", "number"):
        parse = _integer if base == "int" else _number
        low, high = interval.low, interval.high
        low_closed, high_closed = interval.low_closed, interval.high_closed
        fast = int if base == "int" else None

        def number(value: Any) -> Any:
            if (
                type(value) is fast
                and high is None
                and low is not None
                and (value >= low if low_closed else value > low)
                and value < LIMIT
            ):
                return value
            x = parse(value)
            if (
                x is None
                or (low is not None and (x < low or (x == low and not low_closed)))
                or (high is not None and (x > high or (x == high and not high_closed)))
            ):
                raise fail(value)
            return x

        return number
    if base == "bool":

        def boolean(value: Any) -> bool:
            if type(value) is not bool:
                raise fail(value)
            return value

        return boolean
    if base == "text":

        def text(value: Any) -> str:
            if type(value) is not str or not (value.isascii() or is_text(value)):
                raise fail(value)
            return value

        return text
    words = {m: m for m in spec.members or ()}
    words.update({labels[m]: m for m in spec.members or () if labels.get(m)})  # type: ignore[misc]
    if base == "enum":

        def member(value: Any) -> str:
            found = words.get(value) if type(value) is str else None
            if found is None:
                raise fail(value)
            return found

        return member

    def members(value: Any) -> frozenset[str]:
        if type(value) is not list or any(type(v) is not str or v not in words for v in value):
            raise fail(value)
        found = [words[v] for v in value]
        if len(set(found)) != len(found):
            raise fail(value)
        return frozenset(found)

    return members


class KindValidator:
    """Checks one kind's fields and cross-field constraints."""

    def __init__(self, kind: KindSpec, model: Model, compiler: Compiler) -> None:
        self.kind, self.name = kind, kind.name
        self.converters: list[tuple[str, Converter]] = []
        self.absent: dict[str, tuple[Any, bool, str]] = {}
        for spec in kind.fields.values():
            labels = model.symbols.labels(spec.ty.enum)
            self.converters.append((spec.name, _converter(spec, labels)))
            self.absent[spec.name] = (spec.default, spec.optional, allowed_text(spec, labels))
        self.allowed = {"id", "person", "year", "kind", *kind.fields}
        self.requires = [
            _holds(r, node, compiler) if isinstance(r, ast.Require) and node else _exactly_one(r)
            for r, node in kind.conditions
        ]

    def fields_of(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record's field values, converted and checked; defaults filled in."""
        if not self.allowed.issuperset(record):
            self._unknown_field(record)
        env: dict[str, Any] = {}
        for name, convert in self.converters:
            value = record.get(name, _MISSING)
            if value is not _MISSING:
                env[name] = convert(value)
            else:
                self._left_out(name, env)
        for check in self.requires:
            check(env)
        return env

    def _left_out(self, name: str, env: dict[str, Any]) -> None:
        default, optional, allowed = self.absent[name]
        if default is not None:
            env[name] = default
        elif not optional:
            raise RecordError(
                INVALID,
                f"`{name}` is required for kind `{self.kind.name}`; it must be {allowed}",
                name,
            )

    def _unknown_field(self, record: dict[str, Any]) -> None:
        extra = escaped(str(next(k for k in record if k not in self.allowed)))
        fields = ", ".join(self.kind.fields) or "none"
        raise RecordError(
            INVALID,
            f"`{extra}` is not a field of kind `{self.kind.name}`; its fields are: "
            f"{fields} (and id, person, year, kind)",
            str(extra),
        )


def _exactly_one(req: ast.Require | ast.RequireOne) -> Callable[[dict[str, Any]], None]:
    assert isinstance(req, ast.RequireOne)
    names = req.fields
    listed = ", ".join(f"`{n}`" for n in names)

    def exactly_one(env: dict[str, Any]) -> None:
        given = [n for n in names if n in env]
        if len(given) != 1:
            got = "none" if not given else ", ".join(f"`{n}`" for n in given)
            raise RecordError(
                INVALID,
                f"exactly one of {listed} must be given; got {got}",
                given[-1] if given else names[0],
            )

    return exactly_one


def _holds(
    req: ast.Require, node: tree.Node, compiler: Compiler
) -> Callable[[dict[str, Any]], None]:
    condition = compiler.condition(node)
    used = [n.name for n in tree.nodes(node) if isinstance(n, tree.Var) and n.origin == "field"]
    field = used[0] if used else None
    rule = expr_text(req.condition)
    note = f": {req.label}" if req.label else ""

    def holds(env: dict[str, Any]) -> None:
        try:
            met = condition(env, [])
        except EvaluationError as error:
            raise RecordError("evaluation_error", str(error), field) from None
        if not met:
            values = ", ".join(f"{n} is {show(env.get(n))}" for n in dict.fromkeys(used))
            raise RecordError(INVALID, f"`{rule}` must hold, but {values}{note}", field)

    return holds


def record_year(year: Any) -> int:
    """A record's `year` as an integer; `RecordError` if it is missing or not a year."""
    if year is None:
        raise RecordError(INVALID, "`year` is required; it must be an integer such as 2021", "year")
    whole = type(year) is Decimal and year.is_finite() and year.adjusted() < MAX_INTEGER_DIGITS
    if whole and year == year.to_integral_value() and year > 0:
        return int(year)
    if type(year) is int and 0 < year < LIMIT:
        return year
    if type(year) is float and year.is_integer() and 0 < year < LIMIT:
        return int(year)
    message = f"`year` must be a year, a whole number such as 2021; got {show(year)}"
    raise RecordError(INVALID, message, "year")


def year_of(record: Any) -> int | None:
    """A record's year, or None if it has none that is valid."""
    if type(record) is not dict:
        return None
    year = record.get("year")
    if type(year) is int and 0 < year <= LAST_YEAR:
        return year
    try:
        return record_year(year)
    except RecordError:
        return None


class Decision(NamedTuple):
    """What a valid record was decided to be worth, and how."""

    id: Any
    person: str | None
    year: int
    program: Program  # the kind's rule in the regime in force
    fields: dict[str, Any]  # the checked field values, `year` included
    value: Any  # the amount, or `NotCounted`
    trace: list[Any]

    @property
    def counted(self) -> bool:
        return type(self.value) is not NotCounted


def result_of(decision: Decision, policy: str, version: str) -> dict[str, Any]:
    """The contract's result of a decision: the one place it is written (a `facts`
    kind's record: the facts it gives, and no amount)."""
    program, value = decision.program, decision.value
    result = {"id": decision.id, "person": decision.person, "year": decision.year}
    if decision.person is None:
        del result["person"]
    result["kind"] = program.kind
    result["regime"] = program.regime
    if value is FACT:
        result["fact"] = {name: v for name, v in decision.fields.items() if name != "year"}
    else:
        counted = type(value) is not NotCounted
        total = value.total if type(value) is Credited else value
        result["unit"] = program.unit
        result["category"] = program.category
        result["amount"] = (
            0 if not counted else total if type(total) is int else amount_value(total)
        )
        result["counted"] = counted
        if type(value) is Credited:
            result["credits"] = [
                {"year": year, "amount": amount_value(part)} for year, part in value.parts
            ]
        if not counted:
            result["reason"] = value.reason
    result["policy"] = policy
    result["version"] = version
    result["trace"] = decision.trace
    return result


class RecordPath:
    """Validates and decides one policy's records: kind, year, id, person, fields."""

    def __init__(
        self,
        name: str,
        model: Model,
        compiler: Compiler,
        programs: dict[tuple[str, str], Program],
        regimes: list[ast.Regime],
        lineage: Lineage | None = None,
        years: tuple[int | None, int | None] = (None, None),
    ) -> None:
        self.name, self.programs, self.regimes = name, programs, regimes
        self.lineage, self.years = lineage, years
        self.validators: dict[str, KindValidator] = {}
        for kind in model.kinds.values():
            validator = KindValidator(kind, model, compiler)
            self.validators[kind.name] = validator
            if kind.label:
                self.validators.setdefault(kind.label, validator)
        self._regime_by_year: dict[int, str | None] = {}
        self._kind_list = ", ".join(
            f"{k.name} ({k.label})" if k.label else k.name for k in model.kinds.values()
        )

    def regime_for(self, year: int) -> str | None:
        """The regime in force in `year` (remembered for the first thousand years seen)."""
        found = self._regime_by_year.get(year)
        if found is None:
            for r in self.regimes:
                if (r.first is None or year >= r.first) and (r.last is None or year <= r.last):
                    found = r.name
            if found is not None and len(self._regime_by_year) < 1000:
                self._regime_by_year[year] = found
        return found

    def decide(self, record: Any, position: int) -> Decision:
        """Validate and evaluate one record; `RecordError` if it is invalid. `position`
        (its line or row) is the default `id`."""
        if type(record) is not dict:
            message = (
                record.message
                if isinstance(record, Unreadable)
                else f"a record must be an object with `kind` and `year`; got {show(record)}"
            )
            raise RecordError(INVALID, message)
        kind = record.get("kind")
        validator = self.validators.get(kind) if type(kind) is str else None
        if validator is None:
            raise self._bad_kind(kind)
        year = record.get("year")
        if type(year) is not int or not 0 < year <= LAST_YEAR:
            year = record_year(year)
        ident = record.get("id", _MISSING)
        if ident is _MISSING:
            ident = position
        elif type(ident) is not str or not (ident.isascii() or is_text(ident)):
            raise RecordError(INVALID, f"`id` must be a text; got {show(ident)}", "id")
        person = record.get("person", _MISSING)
        if person is _MISSING:
            person = None
        elif type(person) is not str or not (person.isascii() or is_text(person)):
            raise RecordError(INVALID, f"`person` must be a text; got {show(person)}", "person")
        regime = self._regime_by_year.get(year) or self.regime_for(year)
        if regime is None or year > LAST_YEAR:
            raise RecordError(NO_POLICY, self._no_policy(year), "year")
        env = validator.fields_of(record)
        env["year"] = year
        program = self.programs[(validator.name, regime)]
        trace: list[Any] = []
        try:
            value = program.run(env, trace)
        except EvaluationError as error:
            raise RecordError("evaluation_error", str(error)) from None
        except OutOfRange as error:
            raise RecordError(INVALID, str(error), error.field) from None
        return Decision(ident, person, year, program, env, value, trace)

    def _bad_kind(self, kind: Any) -> RecordError:
        if kind is None:
            return RecordError(
                INVALID, f"`kind` is required; it must be one of: {self._kind_list}", "kind"
            )
        code = INVALID if type(kind) is not str else UNKNOWN_KIND
        return RecordError(
            code, f"`kind` must be one of: {self._kind_list}; got {show(kind)}", "kind"
        )

    def _no_policy(self, year: int) -> str:
        spans = []
        for r in self.regimes:
            first = "" if r.first is None else str(r.first)
            last = "" if r.last is None else str(r.last)
            spans.append(f"{r.name} {first}..{last}")
        message = (
            f"no rule of policy `{self.name}` is in force for `year` {year}; it covers: "
            + ", ".join(spans)
        )
        if self.lineage is not None and self.lineage.in_gap(year):
            message += "; " + self.lineage.gap_note(self.name, self.years)
        return message


def usable_id(ident: Any) -> bool:
    """A given id is a text (so that it can be echoed)."""
    return type(ident) is str and (ident.isascii() or is_text(ident))
