"""Narrowing: what is known of variables once a condition is true or false.

Input: a condition and a scope of variables with their domains. Output: the scope with
domains narrowed — `venue == none` false removes `none`, `months > 12` false bounds
`months` by 12, `has hours` false makes `days` present when exactly one of them must be.
The checker mixes this in; it needs `symbols`, `resolved`, `params` and `groups`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from engine.checking.model import Resolved
from engine.checking.symbols import Symbols
from engine.checking.types import FLIPPED, NEGATED, Abstract, Num, from_comparison, intersect
from engine.syntax import ast


@dataclass(frozen=True)
class Binding:
    value: Abstract
    presence: str = "present"  # present | maybe | absent
    origin: str = "field"  # field | let | parameter


Scope = dict[str, Binding]


class Narrowing:
    symbols: Symbols
    resolved: dict[int, Resolved]
    params: dict[str, Num | bool | str]
    groups: list[tuple[str, ...]]  # exactly-one groups of the kind being checked

    # ── narrowing ───────────────────────────────────────────────────────
    def narrow(self, cond: ast.Expr, truth: bool, scope: Scope) -> Scope:
        """What is known of the variables when `cond` evaluates to `truth`."""
        match cond:
            case ast.Unary("not", operand):
                return self.narrow(operand, not truth, scope)
            case ast.Binary("and", left, right) if truth:
                return self.narrow(right, True, self.narrow(left, True, scope))
            case ast.Binary("or", left, right) if not truth:
                return self.narrow(right, False, self.narrow(left, False, scope))
            case ast.Has(name) if name in scope:
                return self._presence(scope, name, "present" if truth else "absent")
            case ast.Compare(op, ast.Name(name), other) if name in scope:
                return self._compare(scope, name, op if truth else NEGATED[op], other)
            case ast.Compare(op, other, ast.Name(name)) if name in scope:
                return self._compare(scope, name, FLIPPED[op if truth else NEGATED[op]], other)
            case ast.Membership(ast.Name(name), ast.SetLiteral(), negated) if name in scope:
                return self._in(scope, name, cond, truth != negated)
        return scope

    def _presence(self, scope: Scope, name: str, presence: str) -> Scope:
        scope = {**scope, name: replace(scope[name], presence=presence)}
        for group in self.groups:
            if name in group:
                rest = [f for f in group if f != name]
                if presence == "present":
                    for f in rest:
                        scope[f] = replace(scope[f], presence="absent")
                elif all(scope[f].presence == "absent" for f in rest[:-1]) and rest:
                    scope[rest[-1]] = replace(scope[rest[-1]], presence="present")
        return scope

    def _compare(self, scope: Scope, name: str, op: str, other: ast.Expr) -> Scope:
        binding = scope[name]
        value = binding.value
        if value.ty.base == "enum" and value.members is not None:
            member = self._constant_member(other)
            if member is None:
                return scope
            order = self.symbols.members(value.ty.enum or "")
            keep = frozenset(m for m in value.members if _holds(order, m, op, member))
            return {**scope, name: replace(binding, value=replace(value, members=keep))}
        constant = self.constant_number(other)
        interval = from_comparison(op, constant) if constant is not None else None
        if value.ty.numeric and interval is not None:
            narrowed = replace(value, interval=intersect(value.interval, interval))
            return {**scope, name: replace(binding, value=narrowed)}
        return scope

    def _in(self, scope: Scope, name: str, cond: ast.Membership, inside: bool) -> Scope:
        binding = scope[name]
        value = binding.value
        if value.members is None or not isinstance(cond.collection, ast.SetLiteral):
            return scope
        listed = {self.symbols.member(value.ty.enum or "", m) for m in cond.collection.members}
        keep = value.members & listed if inside else value.members - listed
        return {**scope, name: replace(binding, value=replace(value, members=frozenset(keep)))}

    def _constant_member(self, expr: ast.Expr) -> str | None:
        if isinstance(expr, ast.Qualified):
            return expr.member
        resolved = self.resolved.get(id(expr))
        return resolved[1] if resolved and resolved[0] == "member" else None

    def constant_number(self, expr: ast.Expr) -> Num | None:
        match expr:
            case ast.Number(value):
                return value
            case ast.Unary("-", operand):
                inner = self.constant_number(operand)
                return None if inner is None else -inner
            case ast.Name(name) if name in self.params:
                value = self.params[name]
                return (
                    value
                    if isinstance(value, int | Decimal) and not isinstance(value, bool)
                    else None
                )
        return None


def _holds(order: list[str], member: str, op: str, other: str) -> bool:
    a, b = order.index(member), order.index(other)
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
