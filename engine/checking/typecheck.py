"""Type and domain checking of expressions and bodies.

Input: `Symbols`, resolved tables and function signatures, and a scope of variables.
Output: diagnostics, plus the resolution of every `Name` and ordered comparison (for
the compiler). Domains narrow under `when`, `if`, `and`, `or` and `has`, so a look-up
is reported only when a value that really can arrive reaches a hole or a gap.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from engine.checking.model import Resolved, Signature, TableSpec
from engine.checking.narrow import Binding, Narrowing, Scope
from engine.checking.symbols import Symbols
from engine.checking.types import (
    BOOL,
    ERROR,
    INT,
    NUMBER,
    TEXT,
    UNCOUNTED,
    Abstract,
    Interval,
    Num,
    Ty,
    fits,
    gaps,
    hull,
    intersect,
    is_empty,
    join,
)
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic, did_you_mean

BUILTINS = ("min", "max", "floor", "ceil", "lower", "higher", "sum")
ARITHMETIC = ("+", "-", "*", "/", "//", "%")


class ExprChecker(Narrowing):
    """Checks expressions against a policy's declarations; collects diagnostics."""

    def __init__(
        self,
        symbols: Symbols,
        tables: dict[str, TableSpec],
        params: dict[str, Num | bool | str],
        signatures: dict[str, Signature],
    ) -> None:
        self.symbols = symbols
        self.tables = tables
        self.params = params
        self.signatures = signatures
        self.diags: list[Diagnostic] = []
        self.resolved: dict[int, Resolved] = {}
        self.enum_of: dict[int, str] = {}
        self.groups: list[tuple[str, ...]] = []  # exactly-one groups of the current kind
        self.later_lets: dict[str, ast.Let] = {}
        self.sum_names: dict[str, Ty] | None = None  # what `sum(…)` adds up, in a summary

    def error(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help))

    # ── bodies ──────────────────────────────────────────────────────────
    def body(
        self,
        statements: tuple[ast.Statement, ...],
        result: ast.Expr,
        scope: Scope,
        expect: Ty,
        expect_members: frozenset[str] | None = None,
    ) -> None:
        """Check lets, early results and the final result of a rule or function."""
        scope = dict(scope)
        for i, stmt in enumerate(statements):
            self.later_lets = {s.name: s for s in statements[i:] if isinstance(s, ast.Let)}
            if isinstance(stmt, ast.Let):
                value = self.infer(stmt.value, scope)
                if stmt.name in scope or stmt.name in self.params:
                    self.error(
                        "duplicate",
                        f"`{stmt.name}` is already defined",
                        stmt.span,
                        "choose another name for this `let`",
                    )
                scope[stmt.name] = Binding(value, origin="let")
            else:
                self.boolean(stmt.condition, scope)
                inner = self.narrow(stmt.condition, True, scope)
                self.result(stmt.result, inner, expect, expect_members)
                scope = self.narrow(stmt.condition, False, scope)
        self.later_lets = {}
        self.result(result, scope, expect, expect_members)

    def summary(self, statements: tuple[ast.SummaryStatement, ...], scope: Scope) -> list[str]:
        """Check a summary's lets, shows and requirements; the names it shows, in order."""
        scope, shown = dict(scope), []
        for stmt in statements:
            if isinstance(stmt, ast.Requirement):
                self._requirement(stmt, scope)
                continue
            if isinstance(stmt, ast.Show) and stmt.value is None:
                if stmt.name not in scope or scope[stmt.name].origin != "let":
                    self._unknown(stmt.name, "let", [n for n in scope if scope[n].origin == "let"],
                                  stmt.span)  # fmt: skip
                shown.append(stmt.name)
                continue
            value = self.infer(stmt.value, scope)  # type: ignore[arg-type]
            if not (value.ty.numeric or value.ty in (BOOL, ERROR)):
                self.error("type", f"a summary shows numbers or yes/no, not {value.ty}",
                           stmt.value.span)  # type: ignore[union-attr]  # fmt: skip
            if stmt.name in scope or stmt.name in self.params:
                self.error("duplicate", f"`{stmt.name}` is already defined", stmt.span)
            scope[stmt.name] = Binding(value, origin="let")
            if isinstance(stmt, ast.Show):
                shown.append(stmt.name)
        return shown

    def _requirement(self, req: ast.Requirement, scope: Scope) -> None:
        cond = req.condition
        if not (isinstance(cond, ast.Compare) and cond.op in (">=", ">")):
            self.error(
                "requirement-shape", "a requirement compares what was achieved with what is "
                "required: `achieved >= required`", cond.span,
            )  # fmt: skip
            return
        for side in (cond.left, cond.right):
            self._numeric(self.infer(side, scope), side)

    def result(
        self, expr: ast.Expr, scope: Scope, expect: Ty, members: frozenset[str] | None
    ) -> None:
        value = self.infer(expr, scope, expect)
        if not fits(value.ty, expect):
            self.error("type", f"the result is {value.ty}, but {expect} is expected", expr.span)
        elif members is not None and value.members is not None and not value.members <= members:
            extra = ", ".join(f"`{m}`" for m in sorted(value.members - members))
            self.error("domain", f"the result can be {extra}, which is not allowed here", expr.span)

    def boolean(self, expr: ast.Expr, scope: Scope) -> None:
        value = self.infer(expr, scope, BOOL)
        if not fits(value.ty, BOOL):
            self.error("type", f"a condition must be yes or no, not {value.ty}", expr.span)

    # ── expressions ─────────────────────────────────────────────────────
    def infer(self, expr: ast.Expr, scope: Scope, expect: Ty | None = None) -> Abstract:
        """The type and domain of `expr`; diagnostics for every problem in it."""
        match expr:
            case ast.Number(value):
                return Abstract(
                    INT if isinstance(value, int) else NUMBER, interval=Interval.point(value)
                )
            case ast.Text():
                return Abstract(TEXT)
            case ast.Bool():
                return Abstract(BOOL)
            case ast.Name():
                return self._name(expr, scope, expect)
            case ast.Qualified(enum, member):
                if enum not in self.symbols.enums:
                    self._unknown(enum, "enum", self.symbols.enums, expr.span)
                    return Abstract(ERROR)
                canonical = self.symbols.member(enum, member)
                if canonical is None:
                    self._unknown(
                        member, f"member of `{enum}`", self.symbols.members(enum), expr.span
                    )
                    return Abstract(ERROR)
                return Abstract(Ty("enum", enum), frozenset({canonical}))
            case ast.Call():
                return self._call(expr, scope, expect)
            case ast.Lookup():
                return self._lookup(expr, scope)
            case ast.Unary("-", operand):
                value = self.infer(operand, scope, NUMBER)
                self._numeric(value, operand)
                return Abstract(value.ty if value.ty.numeric else ERROR)
            case ast.Unary(_, operand):
                self.boolean(operand, scope)
                return Abstract(BOOL)
            case ast.Binary(op, left, right) if op in ("and", "or"):
                self.boolean(left, scope)
                self.boolean(right, self.narrow(left, op == "and", scope))
                return Abstract(BOOL)
            case ast.Binary(op, left, right):
                return self._arithmetic(op, left, right, scope)
            case ast.Compare():
                return self._comparison(expr, scope)
            case ast.Membership():
                return self._membership(expr, scope)
            case ast.If(condition, then, otherwise):
                return self._if(expr, condition, then, otherwise, scope, expect)
            case ast.Uncounted(reason):
                if reason not in self.symbols.reasons:
                    self._unknown(reason, "reason", self.symbols.reasons, expr.span)
                return Abstract(UNCOUNTED)
            case ast.Has(name):
                binding = scope.get(name)
                if binding is None:
                    self._unknown(
                        name, "field", [n for n in scope if scope[n].origin == "field"], expr.span
                    )
                elif binding.presence == "present" and binding.origin == "field":
                    self.error(
                        "always-present",
                        f"`{name}` is never absent here",
                        expr.span,
                        "`has` is for optional fields without a default",
                    )
                return Abstract(BOOL)
            case ast.SetLiteral():
                self.error("type", "a set of members can only follow `in`", expr.span)
                return Abstract(ERROR)
        raise AssertionError(expr)

    def _name(self, expr: ast.Name, scope: Scope, expect: Ty | None) -> Abstract:
        name = expr.name
        if name in scope:
            binding = scope[name]
            if binding.presence != "present":
                self.error(
                    "maybe-absent",
                    f"`{name}` is optional and may be absent here",
                    expr.span,
                    f"guard it with `has {name}`, e.g. `if has {name} then … else …`",
                )
            self.resolved[id(expr)] = ("var", name)
            return binding.value
        if name in self.params:
            value = self.params[name]
            self.resolved[id(expr)] = ("param", value)
            return _constant(value)
        if expect is not None and expect.base == "enum":
            member = self.symbols.member(expect.enum or "", name)
            if member is not None:
                self.resolved[id(expr)] = ("member", member)
                return Abstract(expect, frozenset({member}))
        owners = [e for e in self.symbols.enums if self.symbols.member(e, name) is not None]
        if len(owners) == 1:
            member = self.symbols.member(owners[0], name)
            self.resolved[id(expr)] = ("member", member)
            return Abstract(Ty("enum", owners[0]), frozenset({member}))
        if len(owners) > 1:
            choices = " or ".join(f"`{e}.{name}`" for e in owners)
            self.error(
                "ambiguous-member",
                f"`{name}` is a member of several enums",
                expr.span,
                f"write {choices}",
            )
            return Abstract(ERROR)
        if name in self.symbols.functions or name in self.tables:
            what = "function" if name in self.symbols.functions else "table"
            usage = f"{name}(…)" if what == "function" else f"{name}[…]"
            self.error("type", f"`{name}` is a {what}", expr.span, f"use it as `{usage}`")
            return Abstract(ERROR)
        if name in self.later_lets:
            let = self.later_lets[name]
            self.error(
                "forward-reference",
                f"`{name}` is used before it is defined",
                expr.span,
                f"`let {name}` comes at line {let.span.line}; "
                "a `let` can use only the lets above it",
            )
            return Abstract(ERROR)
        known = list(scope) + list(self.params)
        if expect is not None and expect.base == "enum":
            known += self.symbols.members(expect.enum or "")
        self._unknown(name, "name", known, expr.span)
        return Abstract(ERROR)

    def _unknown(self, name: str, what: str, known: object, span: ast.Span) -> None:
        self.error("unknown-name", f"unknown {what} `{name}`", span, did_you_mean(name, known))  # type: ignore[arg-type]

    def _numeric(self, value: Abstract, expr: ast.Expr) -> bool:
        if value.ty.numeric or value.ty.base == "error":
            return True
        self.error("type", f"a number is needed here, not {value.ty}", expr.span)
        return False

    def _arithmetic(self, op: str, left: ast.Expr, right: ast.Expr, scope: Scope) -> Abstract:
        a, b = self.infer(left, scope, NUMBER), self.infer(right, scope, NUMBER)
        if not (self._numeric(a, left) & self._numeric(b, right)):
            return Abstract(ERROR)
        if "error" in (a.ty.base, b.ty.base):
            return Abstract(ERROR)
        if op == "//" or (op != "/" and a.ty == INT and b.ty == INT):
            return Abstract(INT)
        return Abstract(NUMBER)

    def _comparison(self, expr: ast.Compare, scope: Scope) -> Abstract:
        a = self.infer(expr.left, scope)
        b = self.infer(expr.right, scope, a.ty if a.ty.base != "error" else None)
        if a.ty.base == "error" and b.ty.base != "error":
            a = self.infer(expr.left, scope, b.ty)
        if "error" in (a.ty.base, b.ty.base):
            return Abstract(BOOL)
        if a.ty.numeric and b.ty.numeric:
            return Abstract(BOOL)
        if a.ty != b.ty:
            self.error("type", f"cannot compare {a.ty} with {b.ty}", expr.span)
        elif expr.op not in ("==", "!="):
            if a.ty.base != "enum" or not self.symbols.enums[a.ty.enum or ""].ordered:
                self.error(
                    "type", f"`{expr.op}` needs numbers or an ordered enum, not {a.ty}", expr.span
                )
            else:
                self.enum_of[id(expr)] = a.ty.enum or ""
        return Abstract(BOOL)

    def _membership(self, expr: ast.Membership, scope: Scope) -> Abstract:
        item = self.infer(expr.item, scope)
        if item.ty.base == "error":
            return Abstract(BOOL)
        if item.ty.base != "enum":
            self.error("type", f"`in` needs a member of an enum, not {item.ty}", expr.item.span)
            return Abstract(BOOL)
        enum = item.ty.enum or ""
        if isinstance(expr.collection, ast.SetLiteral):
            for m in expr.collection.members:
                if self.symbols.member(enum, m) is None:
                    self._unknown(
                        m, f"member of `{enum}`", self.symbols.members(enum), expr.collection.span
                    )
            return Abstract(BOOL)
        collection = self.infer(expr.collection, scope)
        if collection.ty != Ty("set", enum) and collection.ty.base != "error":
            self.error(
                "type", f"`in` needs a set of `{enum}`, not {collection.ty}", expr.collection.span
            )
        return Abstract(BOOL)

    def _if(
        self,
        expr: ast.If,
        condition: ast.Expr,
        then: ast.Expr,
        otherwise: ast.Expr,
        scope: Scope,
        expect: Ty | None,
    ) -> Abstract:
        self.boolean(condition, scope)
        a = self.infer(then, self.narrow(condition, True, scope), expect)
        hint = expect if expect is not None and expect.base == "enum" else a.ty
        b = self.infer(otherwise, self.narrow(condition, False, scope), hint)
        if a.ty.base == "error" and b.ty.base != "error":
            a = self.infer(then, self.narrow(condition, True, scope), b.ty)
        ty = join(a.ty, b.ty)
        if ty is None:
            self.error("type", f"the branches differ: {a.ty} and {b.ty}", expr.span)
            return Abstract(ERROR)
        members = None
        if a.members is not None and b.members is not None:
            members = a.members | b.members
        return Abstract(ty, members, hull(a.interval, b.interval))

    # ── calls and look-ups ──────────────────────────────────────────────
    def _call(self, expr: ast.Call, scope: Scope, expect: Ty | None) -> Abstract:
        if expr.function in BUILTINS:
            return self._builtin(expr, scope, expect)
        signature = self.signatures.get(expr.function)
        if signature is None:
            if expr.function in self.tables:
                self.error(
                    "type",
                    f"`{expr.function}` is a table",
                    expr.span,
                    f"look it up with `{expr.function}[…]`",
                )
            else:
                known = list(self.signatures) + list(BUILTINS)
                self._unknown(expr.function, "function", known, expr.span)
            for arg in expr.args:
                self.infer(arg, scope)
            return Abstract(ERROR)
        if len(expr.args) != len(signature.params):
            self.error(
                "arity",
                f"`{expr.function}` takes {len(signature.params)} values, given {len(expr.args)}",
                expr.span,
            )
        for arg, (pname, pty, pmembers, _) in zip(expr.args, signature.params, strict=False):
            value = self.infer(arg, scope, pty)
            if not fits(value.ty, pty):
                self.error(
                    "type",
                    f"`{pname}` of `{expr.function}` must be {pty}, not {value.ty}",
                    arg.span,
                )
            elif (
                pmembers is not None and value.members is not None and not value.members <= pmembers
            ):
                extra = ", ".join(f"`{m}`" for m in sorted(value.members - pmembers))
                self.error(
                    "domain",
                    f"`{pname}` of `{expr.function}` does not allow {extra}",
                    arg.span,
                    "narrow the value first with `when`, or widen the parameter's type",
                )
        return Abstract(signature.returns, signature.returns_members)

    def _sum(self, expr: ast.Call) -> Abstract:
        if self.sum_names is None:
            self.error(
                "type",
                "`sum` adds up a person's records; use it in a `summary` or `window`",
                expr.span,
            )
            return Abstract(ERROR)
        arg = expr.args[0] if len(expr.args) == 1 else None
        if not isinstance(arg, ast.Name):
            self.error("arity", "`sum` takes one name: a category, or a value of the year summary",
                       expr.span)  # fmt: skip
            return Abstract(ERROR)
        if arg.name not in self.sum_names:
            self._unknown(arg.name, "name to add up", self.sum_names, arg.span)
            return Abstract(ERROR)
        self.resolved[id(arg)] = ("sum", arg.name)
        return Abstract(self.sum_names[arg.name])

    def _builtin(self, expr: ast.Call, scope: Scope, expect: Ty | None) -> Abstract:
        name, args = expr.function, expr.args
        if name == "sum":
            return self._sum(expr)
        values = [self.infer(a, scope, expect) for a in args]
        if any(v.ty.base == "error" for v in values):
            return Abstract(ERROR)
        if name in ("min", "max"):
            if len(args) < 2:
                self.error("arity", f"`{name}` takes two or more values", expr.span)
                return Abstract(ERROR)
            if all(v.ty.numeric for v in values):
                return Abstract(INT if all(v.ty == INT for v in values) else NUMBER)
            if all(v.ty == values[0].ty for v in values) and self._ordered(values[0], args[0]):
                self.enum_of[id(expr)] = values[0].ty.enum or ""
                members = frozenset().union(*(v.members or () for v in values))
                return Abstract(values[0].ty, members or None)
            self.error("type", f"`{name}` needs numbers or members of one ordered enum", expr.span)
            return Abstract(ERROR)
        if len(args) != 1:
            self.error("arity", f"`{name}` takes one value, given {len(args)}", expr.span)
            return Abstract(ERROR)
        value, arg = values[0], args[0]
        if name in ("floor", "ceil"):
            return Abstract(INT) if self._numeric(value, arg) else Abstract(ERROR)
        if not self._ordered(value, arg):
            return Abstract(ERROR)
        order = self.symbols.members(value.ty.enum or "")
        self.enum_of[id(expr)] = value.ty.enum or ""
        step = -1 if name == "lower" else 1
        edge = order[0] if name == "lower" else order[-1]
        members = value.members if value.members is not None else frozenset(order)
        if edge in members:
            which = "lowest" if name == "lower" else "highest"
            self.error(
                "no-next-member",
                f"`{name}` can be asked of `{edge}`, the {which} member of `{value.ty.enum}`",
                expr.span,
                f"handle `{edge}` first, e.g. `when … == {edge} then …`",
            )
        moved = frozenset(
            order[order.index(m) + step] for m in members if 0 <= order.index(m) + step < len(order)
        )
        return Abstract(value.ty, moved)

    def _ordered(self, value: Abstract, expr: ast.Expr) -> bool:
        if value.ty.base == "enum" and self.symbols.enums[value.ty.enum or ""].ordered:
            return True
        self.error("type", f"a member of an ordered enum is needed here, not {value.ty}", expr.span)
        return False

    def _lookup(self, expr: ast.Lookup, scope: Scope) -> Abstract:
        table = self.tables.get(expr.table)
        if table is None:
            if expr.table in self.symbols.tables:  # declared, but itself in error
                return Abstract(ERROR)
            self._unknown(expr.table, "table", list(self.tables), expr.span)
            return Abstract(ERROR)
        if len(expr.keys) != len(table.key_types):
            self.error(
                "arity",
                f"`{expr.table}` takes {len(table.key_types)} keys, given {len(expr.keys)}",
                expr.span,
            )
            return Abstract(table.value_type)
        values = []
        for key, ty in zip(expr.keys, table.key_types, strict=True):
            value = self.infer(key, scope, ty)
            if not fits(value.ty, ty):
                self.error("type", f"`{expr.table}` is looked up by {ty}, not {value.ty}", key.span)
                return Abstract(table.value_type)
            values.append(value)
        if table.is_bracket:
            return self._bracket_lookup(expr, table, values[0])
        return self._grid_lookup(expr, table, values)

    def _grid_lookup(self, expr: ast.Lookup, table: TableSpec, values: list[Abstract]) -> Abstract:
        domains = [
            sorted(v.members) if v.members is not None else self.symbols.members(t.enum or "")
            for v, t in zip(values, table.key_types, strict=True)
        ]
        reached, holes = [], []
        for combo in itertools.product(*domains):
            key = combo if len(combo) > 1 else combo[0]
            if key in table.cells:
                reached.append(table.cells[key])
            else:
                holes.append(" × ".join(f"`{m}`" for m in combo))
        if holes:
            shown = ", ".join(holes[:4]) + (", …" if len(holes) > 4 else "")
            self.error(
                "reachable-hole",
                f"`{expr.table}` has no value for {shown}, which can arrive here",
                expr.span,
                "restrict the field's type, or handle these cases before the look-up",
            )
        return _values(table.value_type, reached)

    def _bracket_lookup(self, expr: ast.Lookup, table: TableSpec, key: Abstract) -> Abstract:
        integer = table.key_types[0] == INT
        missing = gaps(key.interval, [b for b, _ in table.brackets], integer)
        if missing:
            name = _describe(expr.keys[0])
            shown = "; ".join(g.describe(name) for g in missing)
            self.error(
                "reachable-gap",
                f"`{expr.table}` has no row for {shown}",
                expr.span,
                "add a row, restrict the field's range, or handle it first with `when`",
            )
        reached = [
            v for b, v in table.brackets if not is_empty(intersect(b, key.interval), integer)
        ]
        return _values(table.value_type, reached)


def _describe(expr: ast.Expr) -> str:
    return expr.name if isinstance(expr, ast.Name) else "the key"


def _values(ty: Ty, values: list[object]) -> Abstract:
    if ty.base == "enum":
        return Abstract(ty, frozenset(str(v) for v in values))
    numbers = [v for v in values if isinstance(v, int | Decimal) and not isinstance(v, bool)]
    if ty.numeric and numbers:
        return Abstract(ty, interval=Interval(min(numbers), True, max(numbers), True))
    return Abstract(ty)


def _constant(value: Num | bool | str) -> Abstract:
    if isinstance(value, bool):
        return Abstract(BOOL)
    if isinstance(value, str):
        return Abstract(TEXT)
    return Abstract(INT if isinstance(value, int) else NUMBER, interval=Interval.point(value))
