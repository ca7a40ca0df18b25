"""Every builtin of the language, declared once: name, arity, type rule, explanation words.

Input: a call the checker meets (`ExprChecker` hands itself to the type rule). Output: the
call's checked node with its domain. `engine.running.builtins` implements each name
declared here; a test keeps the two tables' names equal. A policy may not declare a
name of this table (`reserved-name`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.checking import aggregate, tree
from engine.checking.types import ERROR, INT, NUMBER, Abstract, Ty
from engine.syntax import ast
from engine.syntax.limits import MAX_PLACES

if TYPE_CHECKING:
    from engine.checking.narrow import Scope
    from engine.checking.typecheck import ExprChecker

TypeRule = Callable[["ExprChecker", ast.Call, "Scope", "Ty | None"], tree.Node]


@dataclass(frozen=True, slots=True)
class BuiltinSpec:
    name: str
    least: int  # the fewest values it takes
    most: int | None  # the most (None: any number)
    words: str  # how an explanation names what it does
    rule: TypeRule


def _error(call: ast.Call) -> tree.Node:
    return tree.Builtin(call, Abstract(ERROR), call.function, (), None)


def _failed(args: tuple[tree.Node, ...]) -> bool:
    return any(a.domain.ty.base == "error" for a in args)


def _arity(checker: ExprChecker, call: ast.Call, spec: BuiltinSpec) -> bool:
    count = len(call.args)
    if count >= spec.least and (spec.most is None or count <= spec.most):
        return True
    words = {1: "one", 2: "two"}
    if spec.most is None:
        wanted = f"{words[spec.least]} or more values"
    elif spec.most > spec.least:
        wanted = f"{words[spec.least]} or {words[spec.most]} values, given {count}"
    else:
        wanted = f"{words[spec.least]} value, given {count}"
    checker.error("arity", f"`{call.function}` takes {wanted}", call.span)
    return False


def _extreme(checker: ExprChecker, call: ast.Call, scope: Scope, expect: Ty | None) -> tree.Node:
    """`min` and `max`: of numbers, or of members of one ordered enum (by rank)."""
    args = tuple(checker.infer(a, scope, expect) for a in call.args)
    if _failed(args) or not _arity(checker, call, BUILTINS[call.function]):
        return _error(call)
    values = [a.domain for a in args]
    if all(v.ty.numeric for v in values):
        ty = INT if all(v.ty == INT for v in values) else NUMBER
        return tree.Builtin(call, Abstract(ty), call.function, args, None)
    first = values[0]
    if all(v.ty == first.ty for v in values) and checker.ordered(first, call.args[0]):
        members = frozenset().union(*(v.members or () for v in values))
        order = tuple(checker.symbols.members(first.ty.enum or ""))
        return tree.Builtin(call, Abstract(first.ty, members or None), call.function, args, order)
    checker.error(
        "type", f"`{call.function}` needs numbers or members of one ordered enum", call.span
    )
    return _error(call)


def _rounding(checker: ExprChecker, call: ast.Call, scope: Scope, expect: Ty | None) -> tree.Node:
    """`floor`, `ceil` and `round` (half up): a number to a whole number, or to as many
    decimal places as a second value, a whole number from 0 to 12 written in the policy."""
    args = tuple(checker.infer(a, scope, expect) for a in call.args)
    if _failed(args) or not _arity(checker, call, BUILTINS[call.function]):
        return _error(call)
    if not checker.numeric(args[0].domain, call.args[0]):
        return _error(call)
    places = _places(checker, call, args)
    if places is None:
        return _error(call)
    ty = INT if places == 0 else NUMBER
    return tree.Builtin(call, Abstract(ty), call.function, args, None)


def _places(checker: ExprChecker, call: ast.Call, args: tuple[tree.Node, ...]) -> int | None:
    """The decimal places a rounding keeps: 0 unless a constant says otherwise."""
    if len(args) == 1:
        return 0
    given = args[1]
    value = given.value if isinstance(given, tree.Const | tree.Param) else None
    if type(value) is int and 0 <= value <= MAX_PLACES:
        return value
    checker.error(
        "type",
        f"`{call.function}` keeps a fixed number of decimal places: "
        f"a whole number from 0 to {MAX_PLACES}",
        call.args[1].span,
        f"e.g. `{call.function}(x, 2)`",
    )
    return None


def _neighbour(checker: ExprChecker, call: ast.Call, scope: Scope, expect: Ty | None) -> tree.Node:
    """`lower` and `higher`: the next member of an ordered enum, down or up."""
    args = tuple(checker.infer(a, scope, expect) for a in call.args)
    if _failed(args) or not _arity(checker, call, BUILTINS[call.function]):
        return _error(call)
    value = args[0].domain
    if not checker.ordered(value, call.args[0]):
        return _error(call)
    name, enum = call.function, value.ty.enum or ""
    order = checker.symbols.members(enum)
    step = -1 if name == "lower" else 1
    edge = order[0] if name == "lower" else order[-1]
    members = value.members if value.members is not None else frozenset(order)
    if edge in members:
        which = "lowest" if name == "lower" else "highest"
        checker.error(
            "no-next-member",
            f"`{name}` can be asked of `{edge}`, the {which} member of `{enum}`",
            call.span,
            f"handle `{edge}` first, e.g. `when … == {edge} then …`",
        )
    moved = frozenset(
        order[order.index(m) + step] for m in members if 0 <= order.index(m) + step < len(order)
    )
    return tree.Builtin(call, Abstract(value.ty, moved), name, args, tuple(order))


BUILTINS: dict[str, BuiltinSpec] = {
    spec.name: spec
    for spec in (
        BuiltinSpec("min", 2, None, "取较小者", _extreme),
        BuiltinSpec("max", 2, None, "取较大者", _extreme),
        BuiltinSpec("floor", 1, 2, "向下取整", _rounding),
        BuiltinSpec("ceil", 1, 2, "向上取整", _rounding),
        BuiltinSpec("round", 1, 2, "四舍五入", _rounding),
        BuiltinSpec("lower", 1, 1, "低一级", _neighbour),
        BuiltinSpec("higher", 1, 1, "高一级", _neighbour),
        BuiltinSpec("sum", 1, 1, "合计", aggregate.total),
        BuiltinSpec("count", 1, 1, "件数", aggregate.total),
        BuiltinSpec("met", 1, 1, "达到", aggregate.met),
    )
}
