"""Type and domain checking of expressions and bodies, building the checked tree.

Input: `Symbols`, resolved tables and function signatures, and a scope of variables.
Output: diagnostics, and for each expression its checked node (`engine.checking.tree`):
every name resolved, every node with its type and domain. Domains narrow under `when`,
`if`, `and`, `or` and `has`, so a look-up is reported only when a value that really can
arrive reaches a hole or a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from engine.checking import tree
from engine.checking.aggregate import Pool, fact
from engine.checking.builtins import BUILTINS
from engine.checking.model import Signature, TableSpec
from engine.checking.narrow import Binding, Narrowing, Scope
from engine.checking.symbols import Symbols
from engine.checking.tables import Reach, reach
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
    hull,
    join,
)
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic, did_you_mean


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
        self.groups: list[tuple[str, ...]] = []  # exactly-one groups of the current kind
        self.later_lets: dict[str, tuple[int, ast.Let]] = {}  # a body's lets, by name
        self.position = 0  # the statement being checked
        self.pool: Pool | None = None  # what `sum(…)` and `count(…)` read, in a summary
        self.requirements: tuple[str, ...] | None = None  # what `met(…)` reads, in a window
        # in a rule or function: the reasons its look-ups can leave a record out for, and
        # where (None elsewhere: there a reachable `— REASON` is a hole)
        self.withheld: dict[str, list[str]] | None = None
        self.withholding: dict[str, dict[str, list[str]]] = {}  # the same, by function

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
        credit: ast.Credit | None = None,
    ) -> tree.Body:
        """Check lets, early results and the final result of a rule or function, and the
        years a rule credits it to."""
        scope = dict(scope)
        checked: list[tree.Let | tree.When] = []
        self.later_lets = {}
        for i, s in enumerate(statements):
            if isinstance(s, ast.Let):
                self.later_lets.setdefault(s.name, (i, s))
        for i, stmt in enumerate(statements):
            self.position = i
            if isinstance(stmt, ast.Let):
                value = self.infer(stmt.value, scope)
                if stmt.name in scope or stmt.name in self.params:
                    self.error(
                        "duplicate",
                        f"`{stmt.name}` is already defined",
                        stmt.span,
                        "choose another name for this `let`",
                    )
                scope[stmt.name] = Binding(value.domain, origin="let")
                checked.append(tree.Let(stmt.name, value, stmt))
            else:
                condition = self.boolean(stmt.condition, scope)
                inner = self.narrow(condition, True, scope)
                outcome = self.result(stmt.result, inner, expect, expect_members)
                scope = self.narrow(condition, False, scope)
                checked.append(tree.When(condition, outcome, stmt))
        self.later_lets = {}
        final = self.result(result, scope, expect, expect_members)
        return tree.Body(tuple(checked), final, self._credit(credit, scope))

    def _credit(self, credit: ast.Credit | None, scope: Scope) -> tree.Credit | None:
        if credit is None:
            return None
        if credit.each is not None:
            first, last = (self._year(e, scope) for e in credit.each)
            return tree.Credit((), (first, last), credit)
        parts = []
        for n, part in enumerate(credit.parts, 1):
            amount = None
            if part.amount is not None:
                amount = self.infer(part.amount, scope, NUMBER)
                self.numeric(amount.domain, part.amount)
            elif n < len(credit.parts):
                self.error("credit-rest", "`rest` is the last part of a `credit`", part.span)
            parts.append((amount, self._year(part.year, scope)))
        if all(part.amount is not None for part in credit.parts):
            self.error(
                "credit-rest",
                "the parts of a `credit` must add up to the amount",
                credit.span,
                "end with what the others leave: `…, rest to year + 1`",
            )
        return tree.Credit(tuple(parts), None, credit)

    def _year(self, expr: ast.Expr, scope: Scope) -> tree.Node:
        node = self.infer(expr, scope, INT)
        if node.domain.ty not in (INT, ERROR):
            self.error("type", f"a year is a whole number, not {node.domain.ty}", expr.span)
        return node

    def summary(self, decl: ast.Summary | ast.Window, scope: Scope) -> tree.Summary:
        """Check a summary's lets, shows and requirements."""
        scope, shown = dict(scope), []
        checked: list[tree.SummaryStatement] = []
        for stmt in decl.body:
            if isinstance(stmt, ast.Requirement):
                requirement = self._requirement(stmt, scope)
                if requirement is not None:
                    checked.append(requirement)
                continue
            if isinstance(stmt, ast.Show) and stmt.value is None:
                binding = scope.get(stmt.name)
                if binding is None or binding.origin != "let":
                    lets = [n for n in scope if scope[n].origin == "let"]
                    self.unknown(stmt.name, "let", lets, stmt.span)
                    binding = Binding(Abstract(ERROR), origin="let")
                shown.append(stmt.name)
                source = ast.Name(stmt.name, span=stmt.span)
                value = tree.Var(source, binding.value, stmt.name, "let")
                checked.append(tree.Show(stmt.name, value, stmt))
                continue
            assert stmt.value is not None
            node = self.infer(stmt.value, scope)
            ty = node.domain.ty
            if not (ty.numeric or ty.base == "enum" or ty in (BOOL, ERROR)):
                self.error(
                    "type", f"a summary shows numbers, members or yes/no, not {ty}", stmt.value.span
                )
            if stmt.name in scope or stmt.name in self.params:
                self.error("duplicate", f"`{stmt.name}` is already defined", stmt.span)
            scope[stmt.name] = Binding(node.domain, origin="let")
            if isinstance(stmt, ast.Show):
                shown.append(stmt.name)
                checked.append(tree.Show(stmt.name, node, stmt))
            else:
                checked.append(tree.Let(stmt.name, node, stmt))
        used = [n for s in checked for root in _roots(s) for n in tree.nodes(root)]
        sums = tuple({n.key: n for n in used if isinstance(n, tree.Total)}.values())
        facts = tuple(
            dict.fromkeys(
                n.source.enum
                for n in used
                if isinstance(n, tree.Var)
                and n.origin == "fact"
                and isinstance(n.source, ast.Qualified)
            )
        )
        return tree.Summary(decl, tuple(checked), tuple(shown), sums, facts)

    def _requirement(self, req: ast.Requirement, scope: Scope) -> tree.Requirement | None:
        cond = req.condition
        if req.reason is not None:
            if req.reason not in self.symbols.reasons:
                self.unknown(req.reason, "reason", self.symbols.reasons, req.span)
            met = self.boolean(cond, scope)
            return tree.Requirement(req.name, met, None, False, req, req.reason)
        if not (isinstance(cond, ast.Compare) and cond.op in (">=", ">")):
            self.error(
                "requirement-shape", "a requirement compares what was achieved with what is "
                "required: `achieved >= required`", cond.span,
            )  # fmt: skip
            return None
        achieved, required = self.infer(cond.left, scope), self.infer(cond.right, scope)
        for side, node in ((cond.left, achieved), (cond.right, required)):
            self.numeric(node.domain, side)
        return tree.Requirement(req.name, achieved, required, cond.op == ">", req)

    def result(
        self, expr: ast.Expr, scope: Scope, expect: Ty, members: frozenset[str] | None
    ) -> tree.Node:
        node = self.infer(expr, scope, expect)
        value = node.domain
        if not fits(value.ty, expect):
            self.error("type", f"the result is {value.ty}, but {expect} is expected", expr.span)
        elif members is not None and value.members is not None and not value.members <= members:
            extra = ", ".join(f"`{m}`" for m in sorted(value.members - members))
            self.error("domain", f"the result can be {extra}, which is not allowed here", expr.span)
        return node

    def boolean(self, expr: ast.Expr, scope: Scope) -> tree.Node:
        node = self.infer(expr, scope, BOOL)
        if not fits(node.domain.ty, BOOL):
            self.error("type", f"a condition must be yes or no, not {node.domain.ty}", expr.span)
        return node

    # ── expressions ─────────────────────────────────────────────────────
    def infer(self, expr: ast.Expr, scope: Scope, expect: Ty | None = None) -> tree.Node:
        """The checked node of `expr`; diagnostics for every problem in it."""
        match expr:
            case ast.Number(value):
                ty = INT if isinstance(value, int) else NUMBER
                return tree.Const(expr, Abstract(ty, interval=Interval.point(value)), value)
            case ast.Text(value):
                return tree.Const(expr, Abstract(TEXT), value)
            case ast.Bool(value):
                return tree.Const(expr, Abstract(BOOL), value)
            case ast.Name():
                return self._name(expr, scope, expect)
            case ast.Qualified():
                return self._qualified(expr)
            case ast.Call():
                return self._call(expr, scope, expect)
            case ast.Lookup():
                return self._lookup(expr, scope)
            case ast.Unary("-", operand):
                inner = self.infer(operand, scope, NUMBER)
                self.numeric(inner.domain, operand)
                ty = inner.domain.ty if inner.domain.ty.numeric else ERROR
                return tree.Unary(expr, Abstract(ty), "-", inner)
            case ast.Unary(_, operand):
                return tree.Unary(expr, Abstract(BOOL), "not", self.boolean(operand, scope))
            case ast.Binary(op, left, right) if op in ("and", "or"):
                a = self.boolean(left, scope)
                b = self.boolean(right, self.narrow(a, op == "and", scope))
                return tree.Binary(expr, Abstract(BOOL), op, a, b)
            case ast.Binary(op, left, right):
                return self._arithmetic(expr, op, left, right, scope)
            case ast.Compare():
                return self._comparison(expr, scope)
            case ast.Membership():
                return self._membership(expr, scope)
            case ast.If(condition, then, otherwise):
                return self._if(expr, condition, then, otherwise, scope, expect)
            case ast.Uncounted(reason):
                if reason not in self.symbols.reasons:
                    self.unknown(reason, "reason", self.symbols.reasons, expr.span)
                return tree.Uncounted(expr, Abstract(UNCOUNTED), reason)
            case ast.Has(name):
                return self._has(expr, name, scope)
            case ast.SetLiteral():
                self.error("type", "a set of members can only follow `in`", expr.span)
                return _error(expr)
        raise AssertionError(expr)

    def _qualified(self, expr: ast.Qualified) -> tree.Node:
        enum, member = expr.enum, expr.member
        if enum not in self.symbols.enums:
            found = fact(self, expr)
            if found is not None:
                return found
            self.unknown(enum, "enum", self.symbols.enums, expr.span)
            return _error(expr)
        canonical = self.symbols.member(enum, member)
        if canonical is None:
            self.unknown(member, f"member of `{enum}`", self.symbols.members(enum), expr.span)
            return _error(expr)
        return tree.Const(expr, Abstract(Ty("enum", enum), frozenset({canonical})), canonical)

    def _has(self, expr: ast.Has, name: str, scope: Scope) -> tree.Node:
        binding = scope.get(name)
        if binding is None:
            fields = [n for n in scope if scope[n].origin == "field"]
            self.unknown(name, "field", fields, expr.span)
        elif binding.presence == "present" and binding.origin == "field":
            self.error(
                "always-present",
                f"`{name}` is never absent here",
                expr.span,
                "`has` is for optional fields without a default",
            )
        return tree.Has(expr, Abstract(BOOL), name)

    def _name(self, expr: ast.Name, scope: Scope, expect: Ty | None) -> tree.Node:
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
            return tree.Var(expr, binding.value, name, binding.origin)
        if name in self.params:
            value = self.params[name]
            return tree.Param(expr, _constant(value), name, value)
        member = self._member(expr, expect)
        if member is not None:
            return member
        if name in self.symbols.functions or name in self.tables:
            what = "function" if name in self.symbols.functions else "table"
            usage = f"{name}(…)" if what == "function" else f"{name}[…]"
            self.error("type", f"`{name}` is a {what}", expr.span, f"use it as `{usage}`")
            return _error(expr)
        later = self.later_lets.get(name)
        if later is not None and later[0] >= self.position:
            let = later[1]
            self.error(
                "forward-reference",
                f"`{name}` is used before it is defined",
                expr.span,
                f"`let {name}` comes at line {let.span.line}; "
                "a `let` can use only the lets above it",
            )
            return _error(expr)
        known = list(scope) + list(self.params)
        if expect is not None and expect.base == "enum":
            known += self.symbols.members(expect.enum or "")
        self.unknown(name, "name", known, expr.span)
        return _error(expr)

    def _member(self, expr: ast.Name, expect: Ty | None) -> tree.Node | None:
        """A bare name as a member: of the expected enum, or of the only enum that has it."""
        name = expr.name
        if expect is not None and expect.base == "enum":
            member = self.symbols.member(expect.enum or "", name)
            if member is not None:
                return tree.Const(expr, Abstract(expect, frozenset({member})), member)
        owners = [e for e in self.symbols.enums if self.symbols.member(e, name) is not None]
        if len(owners) == 1:
            member = self.symbols.member(owners[0], name)
            domain = Abstract(Ty("enum", owners[0]), frozenset({member}))  # type: ignore[arg-type]
            return tree.Const(expr, domain, member)
        if len(owners) > 1:
            choices = " or ".join(f"`{e}.{name}`" for e in owners)
            self.error(
                "ambiguous-member",
                f"`{name}` is a member of several enums",
                expr.span,
                f"write {choices}",
            )
            return _error(expr)
        return None

    def unknown(self, name: str, what: str, known: Iterable[str], span: ast.Span) -> None:
        self.error("unknown-name", f"unknown {what} `{name}`", span, did_you_mean(name, known))

    def numeric(self, value: Abstract, expr: ast.Expr) -> bool:
        if value.ty.numeric or value.ty.base == "error":
            return True
        self.error("type", f"a number is needed here, not {value.ty}", expr.span)
        return False

    def ordered(self, value: Abstract, expr: ast.Expr) -> bool:
        if value.ty.base == "enum" and self.symbols.enums[value.ty.enum or ""].ordered:
            return True
        self.error("type", f"a member of an ordered enum is needed here, not {value.ty}", expr.span)
        return False

    def _arithmetic(
        self, expr: ast.Binary, op: str, left: ast.Expr, right: ast.Expr, scope: Scope
    ) -> tree.Node:
        a, b = self.infer(left, scope, NUMBER), self.infer(right, scope, NUMBER)
        ta, tb = a.domain.ty, b.domain.ty
        numbers = self.numeric(a.domain, left) & self.numeric(b.domain, right)
        if not numbers or "error" in (ta.base, tb.base):
            ty = ERROR
        elif op == "//" or (op != "/" and ta == INT and tb == INT):
            ty = INT
        else:
            ty = NUMBER
        return tree.Binary(expr, Abstract(ty), op, a, b)

    def _comparison(self, expr: ast.Compare, scope: Scope) -> tree.Node:
        a = self.infer(expr.left, scope)
        b = self.infer(expr.right, scope, a.domain.ty if a.domain.ty.base != "error" else None)
        if a.domain.ty.base == "error" and b.domain.ty.base != "error":
            a = self.infer(expr.left, scope, b.domain.ty)
        ta, tb, order = a.domain.ty, b.domain.ty, None
        if "error" in (ta.base, tb.base) or (ta.numeric and tb.numeric):
            pass
        elif ta != tb:
            self.error("type", f"cannot compare {ta} with {tb}", expr.span)
        elif expr.op not in ("==", "!="):
            if ta.base != "enum" or not self.symbols.enums[ta.enum or ""].ordered:
                self.error(
                    "type", f"`{expr.op}` needs numbers or an ordered enum, not {ta}", expr.span
                )
            else:
                order = tuple(self.symbols.members(ta.enum or ""))
        return tree.Compare(expr, Abstract(BOOL), expr.op, a, b, order)

    def _membership(self, expr: ast.Membership, scope: Scope) -> tree.Node:
        item = self.infer(expr.item, scope)
        ty = item.domain.ty
        if ty.base != "enum":
            if ty.base != "error":
                self.error("type", f"`in` needs a member of an enum, not {ty}", expr.item.span)
            return tree.Membership(expr, Abstract(BOOL), item, frozenset(), None, expr.negated)
        enum = ty.enum or ""
        if isinstance(expr.collection, ast.SetLiteral):
            found = set()
            for m in expr.collection.members:
                canonical = self.symbols.member(enum, m)
                if canonical is None:
                    known = self.symbols.members(enum)
                    self.unknown(m, f"member of `{enum}`", known, expr.collection.span)
                else:
                    found.add(canonical)
            return tree.Membership(expr, Abstract(BOOL), item, frozenset(found), None, expr.negated)
        collection = self.infer(expr.collection, scope)
        if collection.domain.ty != Ty("set", enum) and collection.domain.ty.base != "error":
            self.error(
                "type",
                f"`in` needs a set of `{enum}`, not {collection.domain.ty}",
                expr.collection.span,
            )
        return tree.Membership(expr, Abstract(BOOL), item, None, collection, expr.negated)

    def _if(
        self,
        expr: ast.If,
        condition: ast.Expr,
        then: ast.Expr,
        otherwise: ast.Expr,
        scope: Scope,
        expect: Ty | None,
    ) -> tree.Node:
        cond = self.boolean(condition, scope)
        yes, no = self.narrow(cond, True, scope), self.narrow(cond, False, scope)
        a = self.infer(then, yes, expect)
        hint = expect if expect is not None and expect.base == "enum" else a.domain.ty
        b = self.infer(otherwise, no, hint)
        if a.domain.ty.base == "error" and b.domain.ty.base != "error":
            a = self.infer(then, yes, b.domain.ty)
        ty = join(a.domain.ty, b.domain.ty)
        if ty is None:
            self.error("type", f"the branches differ: {a.domain.ty} and {b.domain.ty}", expr.span)
            return tree.If(expr, Abstract(ERROR), cond, a, b)
        x, y = a.domain, b.domain
        members = x.members | y.members if x.members is not None and y.members is not None else None
        return tree.If(expr, Abstract(ty, members, hull(x.interval, y.interval)), cond, a, b)

    # ── calls and look-ups ──────────────────────────────────────────────
    def _call(self, expr: ast.Call, scope: Scope, expect: Ty | None) -> tree.Node:
        builtin = BUILTINS.get(expr.function)
        extra = expr.where or expr.by
        if extra is not None and expr.function not in ("sum", "count"):
            self.error(
                "type",
                "only `sum` and `count` take a condition (`where`) or a group (`by`)",
                extra.span,
                "e.g. `sum(paper where level >= provincial)`",
            )
            return tree.Call(expr, Abstract(ERROR), expr.function, ())
        if builtin is not None:
            return builtin.rule(self, expr, scope, expect)
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
                self.unknown(expr.function, "function", known, expr.span)
            args = tuple(self.infer(arg, scope) for arg in expr.args)
            return tree.Call(expr, Abstract(ERROR), expr.function, args)
        if len(expr.args) != len(signature.params):
            self.error(
                "arity",
                f"`{expr.function}` takes {len(signature.params)} values, given {len(expr.args)}",
                expr.span,
            )
        args = tuple(
            self._argument(expr.function, arg, param, scope)
            for arg, param in zip(expr.args, signature.params, strict=False)
        )
        withheld = self.withholding.get(expr.function)
        if withheld:
            places = {r: f"through {'; '.join(w)}" for r, w in withheld.items()}
            self._withhold(f"`{expr.function}`", places, expr.span)
        return tree.Call(expr, Abstract(signature.returns, signature.returns_members),
                         expr.function, args)  # fmt: skip

    def _argument(
        self,
        function: str,
        arg: ast.Expr,
        param: tuple[str, Ty, frozenset[str] | None, Interval],
        scope: Scope,
    ) -> tree.Node:
        pname, pty, pmembers, _ = param
        node = self.infer(arg, scope, pty)
        value = node.domain
        if not fits(value.ty, pty):
            self.error("type", f"`{pname}` of `{function}` must be {pty}, not {value.ty}", arg.span)
        elif pmembers is not None and value.members is not None and not value.members <= pmembers:
            extra = ", ".join(f"`{m}`" for m in sorted(value.members - pmembers))
            self.error(
                "domain",
                f"`{pname}` of `{function}` does not allow {extra}",
                arg.span,
                "narrow the value first with `when`, or widen the parameter's type",
            )
        return node

    def _lookup(self, expr: ast.Lookup, scope: Scope) -> tree.Node:
        table = self.tables.get(expr.table)
        if table is None:
            if expr.table not in self.symbols.tables:  # else declared, but itself in error
                self.unknown(expr.table, "table", list(self.tables), expr.span)
            return tree.Lookup(expr, Abstract(ERROR), expr.table, ())
        if len(expr.keys) != len(table.key_types):
            self.error(
                "arity",
                f"`{expr.table}` takes {len(table.key_types)} keys, given {len(expr.keys)}",
                expr.span,
            )
            return tree.Lookup(expr, Abstract(table.value_type), expr.table, ())
        keys = []
        for key, ty in zip(expr.keys, table.key_types, strict=True):
            node = self.infer(key, scope, ty)
            if not fits(node.domain.ty, ty):
                self.error(
                    "type", f"`{expr.table}` is looked up by {ty}, not {node.domain.ty}", key.span
                )
                return tree.Lookup(expr, Abstract(table.value_type), expr.table, ())
            keys.append(node)
        found = reach(table, self._key_domains(table, keys), self._key_names(expr, table))
        self._holes(expr, table, found)
        if found.withheld:
            places = {r: f"for {_some(p)}" for r, p in found.withheld.items()}
            self._withhold(f"`{expr.table}`", places, expr.span)
        return tree.Lookup(expr, _values(table.value_type, found.values), expr.table, tuple(keys))

    def _key_domains(self, table: TableSpec, keys: list[tree.Node]) -> list[object]:
        """What each key can be: the members it can take, or the interval it lies in."""
        domains: list[object] = []
        for key, ty in zip(keys, table.key_types, strict=True):
            value = key.domain
            if ty.numeric:
                domains.append(value.interval)
            elif value.members is not None:
                domains.append(sorted(value.members))
            else:
                domains.append(self.symbols.members(ty.enum or ""))
        return domains

    def _key_names(self, expr: ast.Lookup, table: TableSpec) -> list[str]:
        """The keys as messages name them: the name looked up by, else the table's key."""
        named = [k.name if isinstance(k, ast.Name) else None for k in expr.keys]
        if len(expr.keys) == 1:
            return [named[0] or "the key"]
        return [n or table.key_names[i] for i, n in enumerate(named)]

    def _holes(self, expr: ast.Lookup, table: TableSpec, found: Reach) -> None:
        if found.holes:
            self.error(
                "reachable-hole",
                f"`{expr.table}` has no value for {_some(found.holes)}, which can arrive here",
                expr.span,
                "restrict the field's type, or handle these cases before the look-up",
            )
        if not found.gaps:
            return
        if len(table.key_types) == 1:
            message = f"`{expr.table}` has no row for {'; '.join(found.gaps)}"
        else:
            message = f"`{expr.table}` has no value for {_some(found.gaps)}, which can arrive here"
        self.error(
            "reachable-gap",
            message,
            expr.span,
            "add a row, restrict the field's range, or handle it first with `when`",
        )

    def _withhold(self, what: str, places: dict[str, str], span: ast.Span) -> None:
        """A look-up (or a call) can make the record `not counted`: so be it in a rule or
        a function; a summary or a `require` cannot leave a record out."""
        if self.withheld is not None:
            for reason, where in places.items():
                self.withheld.setdefault(reason, []).append(f"{what} {where}")
            return
        for reason, where in places.items():
            self.error(
                "reachable-hole",
                f"{what} gives `not counted {reason}` {where}, which can arrive here",
                span,
                "only a rule, or a function it calls, can leave a record out: "
                "handle these cases before the look-up",
            )


def _roots(stmt: tree.SummaryStatement) -> tuple[tree.Node, ...]:
    if isinstance(stmt, tree.Requirement):
        return (stmt.achieved,) if stmt.required is None else (stmt.achieved, stmt.required)
    return (stmt.value,)


def _error(expr: ast.Expr) -> tree.Node:
    """An expression in error: checked no further; no program is built from it."""
    return tree.Const(expr, Abstract(ERROR), None)


def _some(places: list[str]) -> str:
    """The first few of many places."""
    return ", ".join(places[:4]) + (", …" if len(places) > 4 else "")


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
