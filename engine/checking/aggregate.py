"""What a summary adds up and counts: `sum(…)`, `count(…)` and, over a year, `met(…)`.

Input: a call the checker meets inside a year summary or a window, and the `Pool` of
what may be added up there. Output: a `tree.Total` (inside a `tree.Builtin`) naming what
it reads — a category's or a kind's records, with a condition on the kind's fields (a
year summary); a year summary's shown value, or its years, with a condition on each
year's outcomes (a window).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from engine.checking import tree
from engine.checking.types import BOOL, ERROR, INT, NUMBER, Abstract, Interval, Ty
from engine.syntax import ast

if TYPE_CHECKING:
    from engine.checking.narrow import Scope
    from engine.checking.typecheck import ExprChecker

YEARS = "years"  # `count(years …)` in a window: the years that have a row
EACH = ""  # `sum(KIND capped CAP)`: each record is a group of its own


@dataclass(frozen=True)
class Pool:
    """What `sum` and `count` read in one summary or window."""

    window: bool
    values: dict[str, Ty]  # a year summary: its categories; a window: the shown values
    kinds: dict[str, Scope] = field(default_factory=dict)  # a year summary: kinds' fields
    # a year summary: each `facts` kind's fields, with whether `without:` gives a default
    facts: dict[str, dict[str, tuple[Abstract, bool]]] = field(default_factory=dict)
    outcomes: Scope | None = None  # a window: what is known of each year
    requirements: tuple[str, ...] = ()  # a window: the year summary's named requirements


def _failed(call: ast.Call) -> tree.Node:
    return tree.Builtin(call, Abstract(ERROR), call.function, (), None)


def _where(checker: ExprChecker, call: ast.Call, scope: Scope) -> tree.Node | None:
    if call.where is None:
        return None
    return checker.boolean(call.where, scope)


def total(checker: ExprChecker, call: ast.Call, scope: Scope, expect: Ty | None) -> tree.Node:
    """`sum(NAME)`, `count(NAME)`, each optionally `where CONDITION`."""
    function, pool = call.function, checker.pool
    if pool is None:
        checker.error(
            "type",
            f"`{function}` reads a person's records; use it in a `summary` or `window`",
            call.span,
        )
        return _failed(call)
    arg = call.args[0] if len(call.args) == 1 else None
    if not isinstance(arg, ast.Name):
        what = "a value of the year summary, or `years`" if pool.window else "a category or a kind"
        checker.error("arity", f"`{function}` takes one name: {what}", call.span)
        return _failed(call)
    name = arg.name
    if pool.window:
        return _in_window(checker, call, arg, pool)
    known = list(pool.values) + list(pool.kinds)
    if name in pool.values and name in pool.kinds:
        checker.error(
            "ambiguous-name",
            f"`{name}` is both a category and a kind",
            arg.span,
            "rename the category or the kind, so that a total names one of them",
        )
        return _failed(call)
    if name in pool.kinds:
        condition = _where(checker, call, pool.kinds[name])
        node = _node(call, arg, function, "kind", condition)
        if call.cap is None:
            return node
        return _grouped(checker, call, pool.kinds[name], scope, node)
    if name not in pool.values:
        checker.unknown(name, "category or kind", known, arg.span)
        return _failed(call)
    extra = call.where or call.by
    if extra is not None:
        checker.error(
            "type",
            f"`{name}` is a category: a condition or a group reads one kind's fields",
            extra.span,
            f"add up each kind of the category: `{function}(KIND where …)`",
        )
        return _failed(call)
    return _node(call, arg, function, "category", None)


def _grouped(
    checker: ExprChecker, call: ast.Call, fields: Scope, scope: Scope, node: tree.Node
) -> tree.Node:
    """`sum(KIND capped CAP)`: each record adds at most CAP; `sum(KIND by FIELD capped
    CAP)`: each group of records with one value of the field does. CAP is worked out in
    the summary (a number, a parameter, a `let` above, a fact)."""
    assert call.cap is not None and isinstance(node, tree.Builtin)
    total = node.args[0]
    assert isinstance(total, tree.Total)
    if call.function != "sum":
        checker.error("type", "only `sum` caps: `sum(KIND by FIELD capped CAP)`", call.span)
        return _failed(call)
    group = EACH
    if call.by is not None:
        if call.by.name not in fields or fields[call.by.name].origin != "field":
            known = [n for n in fields if fields[n].origin == "field"]
            checker.unknown(call.by.name, f"field of `{total.name}`", known, call.by.span)
            return _failed(call)
        group = call.by.name
    cap = checker.infer(call.cap, scope, NUMBER)
    checker.numeric(cap.domain, call.cap)
    grouped = replace(total, group=group, cap=cap)
    return tree.Builtin(call, node.domain, call.function, (grouped,), None)


def _in_window(checker: ExprChecker, call: ast.Call, arg: ast.Name, pool: Pool) -> tree.Node:
    name, function = arg.name, call.function
    assert pool.outcomes is not None
    if call.by is not None:
        checker.error("type", "a window adds up years, not groups of records", call.by.span)
        return _failed(call)
    if function == "count":
        if name != YEARS:
            checker.error(
                "type",
                "in a window, `count` counts years",
                arg.span,
                "write `count(years)` or `count(years where qualified)`",
            )
            return _failed(call)
        return _node(call, arg, function, YEARS, _outcome(checker, call, pool))
    if name not in pool.values:
        checker.unknown(name, "value of the year summary", pool.values, arg.span)
        return _failed(call)
    return _node(call, arg, function, "value", _outcome(checker, call, pool))


def _outcome(checker: ExprChecker, call: ast.Call, pool: Pool) -> tree.Node | None:
    assert pool.outcomes is not None
    checker.requirements = pool.requirements
    try:
        return _where(checker, call, pool.outcomes)
    finally:
        checker.requirements = None


def _node(
    call: ast.Call, arg: ast.Name, function: str, over: str, condition: tree.Node | None
) -> tree.Node:
    if function == "count":
        domain = Abstract(INT, interval=Interval(0, True, None, False))
    else:
        domain = Abstract(NUMBER)
    node = tree.Total(arg, domain, arg.name, function, over, condition)
    return tree.Builtin(call, domain, function, (node,), None)


def fact(checker: ExprChecker, expr: ast.Qualified) -> tree.Node | None:
    """`KIND.FIELD` in a year summary: the person-year's fact (None: not a `facts` kind)."""
    pool = checker.pool
    fields = pool.facts.get(expr.enum) if pool is not None else None
    if fields is None:
        return None
    if expr.member not in fields:
        checker.unknown(expr.member, f"field of `{expr.enum}`", fields, expr.span)
        return tree.Const(expr, Abstract(ERROR), None)
    domain, has_default = fields[expr.member]
    if not has_default:
        checker.error(
            "fact-default",
            f"`{expr.enum}.{expr.member}` has no value in a year without a `{expr.enum}` record",
            expr.span,
            f"declare it in `facts {expr.enum}`: `without: {expr.member} = …`",
        )
    return tree.Var(expr, domain, fact_key(expr.enum, expr.member), "fact")


def fact_key(kind: str, name: str) -> str:
    """Where a summary's environment holds a person-year's fact."""
    return f"{kind}.{name}"


def met(checker: ExprChecker, call: ast.Call, scope: Scope, expect: Ty | None) -> tree.Node:
    """`met(REQUIREMENT)`: in a window's condition on a year, whether it was met."""
    arg = call.args[0] if len(call.args) == 1 else None
    if checker.requirements is None:
        checker.error(
            "type",
            "`met` reads a year's outcome; use it in a window: `count(years where met(NAME))`",
            call.span,
        )
        return _failed(call)
    if not isinstance(arg, ast.Name):
        checker.error("arity", "`met` takes the name of a requirement", call.span)
        return _failed(call)
    if arg.name not in checker.requirements:
        checker.unknown(arg.name, "requirement", checker.requirements, arg.span)
        return _failed(call)
    value = tree.Var(arg, Abstract(BOOL), met_key(arg.name), "outcome")
    return tree.Builtin(call, Abstract(BOOL), "met", (value,), None)


def met_key(requirement: str) -> str:
    """Where a year's outcome holds whether `requirement` was met."""
    return f"met.{requirement}"
