"""Narrowing: what is known of variables once a checked condition is true or false.

Input: a condition of the checked tree and a scope of variables with their domains.
Output: the scope with domains narrowed — `venue == none` false removes `none`,
`months > 12` false bounds `months` by 12, `has hours` false makes `days` present when
exactly one of them must be. The checker mixes this in; it needs `symbols` and `groups`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from engine.checking import tree
from engine.checking.symbols import Symbols
from engine.checking.types import (
    FLIPPED,
    NEGATED,
    Abstract,
    Interval,
    Num,
    from_comparison,
    hull,
    intersect,
)
from engine.syntax import ast


@dataclass(frozen=True)
class Binding:
    value: Abstract
    presence: str = "present"  # present | maybe | absent
    origin: str = "field"  # field | let | parameter | year


Scope = dict[str, Binding]


class Narrowing:
    symbols: Symbols
    groups: list[tuple[str, ...]]  # exactly-one groups of the kind being checked

    def narrow(self, cond: tree.Node, truth: bool, scope: Scope) -> Scope:
        """What is known of the variables when `cond` evaluates to `truth`."""
        match cond:
            case tree.Unary(op="not", operand=operand):
                return self.narrow(operand, not truth, scope)
            case tree.Binary(op="and", left=left, right=right) if truth:
                return self.narrow(right, True, self.narrow(left, True, scope))
            case tree.Binary(op="or", left=left, right=right) if not truth:
                return self.narrow(right, False, self.narrow(left, False, scope))
            case tree.Binary(op="or", left=left, right=right):  # one of the two holds
                first = self.narrow(left, True, scope)
                second = self.narrow(right, True, self.narrow(left, False, scope))
                return _either(scope, first, second)
            case tree.Binary(op="and", left=left, right=right):  # not both hold
                first = self.narrow(left, False, scope)
                second = self.narrow(right, False, self.narrow(left, True, scope))
                return _either(scope, first, second)
            case tree.Compare(op=op, left=tree.Var(name=a), right=tree.Var(name=b)) if (
                a in scope and b in scope
            ):
                op = op if truth else NEGATED[op]
                narrowed = self._compare(scope, a, op, _bound(scope[b].value, op, high=True))
                return self._compare(
                    narrowed, b, FLIPPED[op], _bound(scope[a].value, op, high=False)
                )
            case tree.Has(name=name) if name in scope:
                return self._presence(scope, name, "present" if truth else "absent")
            case tree.Compare(op=op, left=tree.Var(name=name), right=other) if name in scope:
                return self._compare(scope, name, op if truth else NEGATED[op], other)
            case tree.Compare(op=op, left=other, right=tree.Var(name=name)) if name in scope:
                return self._compare(scope, name, FLIPPED[op if truth else NEGATED[op]], other)
            case tree.Membership(item=tree.Var(name=name), members=members, negated=negated) if (
                name in scope and members is not None
            ):
                return self._in(scope, name, members, truth != negated)
        return scope

    def _presence(self, scope: Scope, name: str, presence: str) -> Scope:
        scope = {**scope, name: replace(scope[name], presence=presence)}
        for group in self.groups:
            if name in group:
                rest = [f for f in group if f != name and f in scope]
                if presence == "present":
                    for f in rest:
                        scope[f] = replace(scope[f], presence="absent")
                elif rest and all(scope[f].presence == "absent" for f in rest[:-1]):
                    scope[rest[-1]] = replace(scope[rest[-1]], presence="present")
        return scope

    def _compare(self, scope: Scope, name: str, op: str, other: tree.Node) -> Scope:
        binding = scope[name]
        value = binding.value
        if value.ty.base == "enum" and value.members is not None:
            member = other.value if isinstance(other, tree.Const) else None
            if not isinstance(member, str) or other.domain.ty != value.ty:
                return scope
            order = self.symbols.members(value.ty.enum or "")
            keep = frozenset(m for m in value.members if _holds(order, m, op, member))
            return {**scope, name: replace(binding, value=replace(value, members=keep))}
        constant = constant_number(other)
        interval = from_comparison(op, constant) if constant is not None else None
        if value.ty.numeric and interval is not None:
            narrowed = replace(value, interval=intersect(value.interval, interval))
            return {**scope, name: replace(binding, value=narrowed)}
        return scope

    def _in(self, scope: Scope, name: str, listed: frozenset[str], inside: bool) -> Scope:
        binding = scope[name]
        value = binding.value
        if value.members is None:
            return scope
        keep = value.members & listed if inside else value.members - listed
        return {**scope, name: replace(binding, value=replace(value, members=frozenset(keep)))}


def _either(scope: Scope, first: Scope, second: Scope) -> Scope:
    """What is known when what is known in `first` or what is known in `second` holds."""
    out = dict(scope)
    for name, binding in scope.items():
        a, b = first.get(name, binding), second.get(name, binding)
        if a == b:
            out[name] = a
            continue
        x, y = a.value, b.value
        members = x.members | y.members if x.members is not None and y.members is not None else None
        value = replace(x, members=members, interval=hull(x.interval, y.interval))
        presence = a.presence if a.presence == b.presence else "maybe"
        out[name] = replace(a, value=value, presence=presence)
    return out


def _bound(value: Abstract, op: str, high: bool) -> tree.Node:
    """The other variable of `x op y` as a constant node: the bound of `y` that limits `x`
    (`x <= y`: y's highest), or of `x` that limits `y` (`high` False: x's lowest)."""
    upper = op in ("<", "<=", "==")
    end = value.interval.high if upper == high else value.interval.low
    if op in ("==", "!=") or end is None or value.ty.base not in ("int", "number"):
        return tree.Const(_NOWHERE, Abstract(value.ty), None)
    return tree.Const(_NOWHERE, Abstract(value.ty, interval=Interval.point(end)), end)


_NOWHERE = ast.Name("", span=ast.Span("", 0, 0, 0, 0))


def constant_number(node: tree.Node) -> Num | None:
    """The number a checked node always has (a literal, a parameter, a negated one)."""
    match node:
        case tree.Const(value=value) | tree.Param(value=value):
            number = isinstance(value, int | Decimal) and not isinstance(value, bool)
            return value if number else None
        case tree.Unary(op="-", operand=operand):
            inner = constant_number(operand)
            return None if inner is None else -inner
    return None


def _holds(order: list[str], member: str, op: str, other: str) -> bool:
    a, b = order.index(member), order.index(other)
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
