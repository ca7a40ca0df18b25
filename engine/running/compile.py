"""The evaluator: a checked `Model` compiled once into nested Python closures.

Input: a `Model` the checker accepted. It assumes every name is resolved, every type
fits, no look-up reaches a hole and no function recurses, so closures do no checking of
their own. Output: for each (kind, regime) a `Program` whose `run(env, trace)` returns
the amount (or `NotCounted`) and appends `(step, cite, value)` to `trace`. Run-time
arithmetic faults carry their source location as `EvaluationError`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import DecimalException
from typing import Any

from engine.checking.model import Model, TableSpec
from engine.checking.typecheck import BUILTINS
from engine.checking.types import EVERYTHING
from engine.running.coverage import Coverage, place
from engine.running.values import (
    CACHE_LIMIT,
    NotCounted,
    Step,
    ceil,
    divide,
    floor,
    floor_mod,
    floordiv,
    shown_value,
    step_maker,
    value_text,
    within,
)
from engine.syntax import ast
from engine.syntax.printer import expr_text
from engine.syntax.visit import walk

Env = dict[str, Any]
Trace = list[dict[str, Any]]
Fn = Callable[[Env, Trace], Any]


class EvaluationError(Exception):
    """An arithmetic fault at run time (e.g. division by zero), with its location."""

    def __init__(self, message: str, span: ast.Span) -> None:
        super().__init__(f"{span.file}:{span.line}:{span.column}: {message}")
        self.span = span


@dataclass(frozen=True)
class Program:
    """How one kind's records earn an amount under one regime."""

    kind: str
    regime: str
    unit: str
    category: str
    run: Fn


Requirement = tuple[str | None, Any, Any, bool]  # name, achieved, required, met


@dataclass(frozen=True)
class SummaryProgram:
    """A compiled year summary or window: `run(env, trace)` gives shown values and
    requirements, where `env` holds `("sum", name)` totals and `year`; steps go to
    `trace` unless it is None."""

    regime: str
    run: Callable[[Env, Trace | None], tuple[dict[str, Any], list[Requirement]]]
    sums: tuple[str, ...]  # the names it adds up with `sum(…)`


def cite_for(cite: ast.Cite | None, regime: str | None, fallback: str) -> str:
    """The citation key of `cite` in `regime`, else `fallback`."""
    if cite is None:
        return fallback
    keys = dict(cite.keys)
    return keys.get(regime) or keys.get(None) or fallback


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": divide,
    "//": floordiv,
    "%": floor_mod,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Compiler:
    """Builds closures for one model; functions are compiled once per regime."""

    def __init__(self, model: Model, coverage: Coverage | None = None) -> None:
        self.model = model
        self.coverage = coverage
        self.functions: dict[tuple[str, str | None], Fn] = {}

    def branches(self, fn: Fn, span: ast.Span, what: str, yes: str, no: str) -> Fn:
        """`fn` as is, or (measuring coverage) noting which way each test went."""
        coverage = self.coverage
        if coverage is None:
            return fn
        where = place(span)
        taken = coverage.declare(where, yes, f"{what} — {yes}")
        passed = coverage.declare(where, no, f"{what} — {no}")
        hits = coverage.hits

        def noted(env: Env, tr: Trace) -> Any:
            value = fn(env, tr)
            hits.add(taken if value else passed)
            return value

        return noted

    def reached(self, fn: Fn, span: ast.Span, suffix: str, what: str) -> Fn:
        """`fn` as is, or (measuring coverage) noting that it ran."""
        coverage = self.coverage
        if coverage is None:
            return fn
        key = coverage.declare(place(span), suffix, what)
        hits = coverage.hits

        def noted(env: Env, tr: Trace) -> Any:
            hits.add(key)
            return fn(env, tr)

        return noted

    def programs(self) -> dict[tuple[str, str], Program]:
        out = {}
        regimes = self.model.symbols.regimes
        in_force = {r.name for r in self.model.symbols.in_force()}
        for (kind, regime), rule in self.model.rules.items():
            if regime not in in_force:
                continue  # inherited from a base, outside this policy's years
            fallback = cite_for(regimes[regime].cite, regime, "")
            cite = cite_for(rule.cite, regime, fallback)
            run = self.body(
                rule.body, rule.result, regime, cite, final=f"amount {expr_text(rule.result)}"
            )
            run = self.reached(run, rule.span, regime, f"rule `{kind}` in `{regime}`")
            out[(kind, regime)] = Program(kind, regime, regimes[regime].unit, rule.category, run)
        return out

    def summary(self, node: ast.Summary | ast.Window, regime: str) -> SummaryProgram:
        """A year summary or a window: lets, shown values and requirements, in order."""
        fallback = cite_for(self.model.symbols.regimes[regime].cite, regime, "")
        cite = cite_for(node.cite, regime, fallback)
        plan: list[tuple[str, str | None, Fn, Fn | None, Callable[[Any], Step], bool]] = []
        for stmt in node.body:
            if isinstance(stmt, ast.Requirement):
                cond = stmt.condition
                assert isinstance(cond, ast.Compare)
                plan.append((
                    "require", stmt.name, self.expr(cond.left, regime, cite),
                    self.expr(cond.right, regime, cite),
                    step_maker(f"requirement {expr_text(cond)}", cite,
                               ("require", stmt.name, cond)), cond.op == ">",
                ))  # fmt: skip
                continue
            name = stmt.name
            value = stmt.value if stmt.value is not None else ast.Name(name, span=stmt.span)
            if stmt.value is None:
                self.model.resolved[id(value)] = ("var", name)
            step_cite = cite_for(stmt.cite, regime, cite) if isinstance(stmt, ast.Let) else cite
            kind = "show" if isinstance(stmt, ast.Show) else "let"
            plan.append((kind, name, self.expr(value, regime, cite), None,
                         step_maker(f"{name} = {expr_text(value)}", step_cite,
                                    ("let", name, value)), False))  # fmt: skip

        marks = self._requirement_marks(node)

        def run(env: Env, trace: Trace | None) -> tuple[dict[str, Any], list[Requirement]]:
            sink = trace if trace is not None else []  # steps of functions it calls
            shown: dict[str, Any] = {}
            required: list[Requirement] = []
            for kind, name, fn, rhs, make, strict in plan:
                if kind == "require":
                    achieved, needed = fn(env, sink), rhs(env, sink)  # type: ignore[misc]
                    met = achieved > needed if strict else achieved >= needed
                    if marks:
                        marks[0].add(marks[1][name][met])
                    if trace is not None:
                        trace.append(make(met))
                    required.append((name, achieved, needed, met))
                    continue
                value = env[name] = fn(env, sink)  # type: ignore[index]
                if trace is not None:
                    trace.append(make(value))
                if kind == "show":
                    shown[name] = value  # type: ignore[index]
            return shown, required

        what = f"window `{node.name}`" if isinstance(node, ast.Window) else "year summary"
        run = self.reached(run, node.span, regime, f"{what} in `{regime}`")
        sums = tuple(
            dict.fromkeys(
                n.args[0].name  # type: ignore[union-attr]
                for n in walk(node)
                if isinstance(n, ast.Call) and n.function == "sum"
            )
        )
        return SummaryProgram(regime, run, sums)

    def _requirement_marks(
        self, node: ast.Summary | ast.Window
    ) -> tuple[set[str], dict[str | None, dict[bool, str]]] | None:
        """Coverage items for each requirement met and not met (None: not measuring)."""
        if self.coverage is None:
            return None
        marks: dict[str | None, dict[bool, str]] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Requirement):
                where, what = place(stmt.span), f"requirement `{expr_text(stmt.condition)}`"
                marks[stmt.name] = {
                    True: self.coverage.declare(where, "met", f"{what} — met"),
                    False: self.coverage.declare(where, "unmet", f"{what} — not met"),
                }
        return self.coverage.hits, marks

    def condition(self, expr: ast.Expr) -> Fn:
        """A condition outside any rule (a kind's `require`)."""
        return self.expr(expr, None, "")

    # ── bodies ──────────────────────────────────────────────────────────
    def body(
        self,
        statements: tuple[ast.Statement, ...],
        result: ast.Expr,
        regime: str | None,
        cite: str,
        final: str | None,
    ) -> Fn:
        steps: list[tuple[bool, str, Fn, Fn | None, Callable[[Any], Step] | None]] = []
        for stmt in statements:
            if isinstance(stmt, ast.Let):
                value = self.expr(stmt.value, regime, cite)
                quiet = stmt.cite is None and (
                    isinstance(stmt.value, ast.Lookup)
                    or (isinstance(stmt.value, ast.Call) and stmt.value.function not in BUILTINS)
                )
                text = f"{stmt.name} = {expr_text(stmt.value)}"
                how = ("let", stmt.name, stmt.value)
                make = None if quiet else step_maker(text, cite_for(stmt.cite, regime, cite), how)
                steps.append((True, stmt.name, value, None, make))
            else:
                text = f"when {expr_text(stmt.condition)} then {expr_text(stmt.result)}"
                cond, res = (
                    self.expr(stmt.condition, regime, cite),
                    self.expr(stmt.result, regime, cite),
                )
                how = ("when", stmt.condition, stmt.result)
                steps.append((False, "", cond, res, step_maker(text, cite, how)))
        final_fn = self.expr(result, regime, cite)
        final_step = step_maker(final, cite, ("amount", result)) if final is not None else None
        plan = tuple(steps)
        if not plan:
            if final_step is None:
                return final_fn

            def direct(env: Env, trace: Trace) -> Any:
                value = final_fn(env, trace)
                trace.append(final_step(value))
                return value

            return direct

        def run(env: Env, trace: Trace) -> Any:
            for is_let, name, fn, res, make in plan:
                if is_let:
                    value = env[name] = fn(env, trace)
                    if make is not None:
                        trace.append(make(value))
                elif fn(env, trace):
                    value = res(env, trace)  # type: ignore[misc]
                    trace.append(make(value))  # type: ignore[misc]
                    return value
            value = final_fn(env, trace)
            if final_step is not None:
                trace.append(final_step(value))
            return value

        return run

    # ── expressions ─────────────────────────────────────────────────────
    def leaf(self, e: ast.Expr) -> tuple[str, Any] | None:
        """`("var", name)` or `("const", value)` for the simplest operands, else None."""
        match e:
            case ast.Number(value) | ast.Text(value) | ast.Bool(value):
                return ("const", value)
            case ast.Qualified(_, member):
                return ("const", member)
            case ast.Name(name):
                how, what = self.model.resolved[id(e)]
                return ("var", name) if how == "var" else ("const", what)
        return None

    def pair(
        self,
        op: Callable[[Any, Any], Any],
        left: ast.Expr,
        right: ast.Expr,
        regime: str | None,
        cite: str,
    ) -> Fn:
        """`op(left, right)`, with the common shapes (a field against a constant or a
        field) fused into one closure."""
        a, b = self.leaf(left), self.leaf(right)
        if a is not None and b is not None and a[0] == "var":
            x = a[1]
            if b[0] == "const":
                c = b[1]
                return lambda env, tr: op(env[x], c)
            y = b[1]
            return lambda env, tr: op(env[x], env[y])
        f, g = self.expr(left, regime, cite), self.expr(right, regime, cite)
        return lambda env, tr: op(f(env, tr), g(env, tr))

    def expr(self, e: ast.Expr, regime: str | None, cite: str) -> Fn:
        """One closure per node; `regime` and `cite` decide the citation keys of steps."""
        match e:
            case ast.Number(value) | ast.Text(value) | ast.Bool(value):
                return lambda env, tr, v=value: v
            case ast.Name(name):
                how, what = self.model.resolved[id(e)]
                if how == "var":
                    return lambda env, tr: env[name]
                return lambda env, tr, v=what: v
            case ast.Qualified(_, member):
                return lambda env, tr, v=member: v
            case ast.Uncounted(reason):
                outcome = NotCounted(reason)
                return lambda env, tr: outcome
            case ast.Has(name):
                return lambda env, tr: name in env
            case ast.Unary("-", operand):
                f = self.expr(operand, regime, cite)
                return lambda env, tr: -f(env, tr)
            case ast.Unary(_, operand):
                f = self.expr(operand, regime, cite)
                return lambda env, tr: not f(env, tr)
            case ast.Binary("and", left, right):
                a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
                return lambda env, tr: a(env, tr) and b(env, tr)
            case ast.Binary("or", left, right):
                a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
                return lambda env, tr: a(env, tr) or b(env, tr)
            case ast.Binary(op, left, right):
                return self._arithmetic(e, op, left, right, regime, cite)
            case ast.Compare(op, left, right):
                compare = _COMPARE[op]
                if id(e) in self.model.enum_of:
                    a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
                    index = self._index(id(e))
                    return lambda env, tr: compare(index[a(env, tr)], index[b(env, tr)])
                return self.pair(compare, left, right, regime, cite)
            case ast.Membership(item, collection, negated):
                return self._membership(item, collection, negated, regime, cite)
            case ast.If(condition, then, otherwise):
                c = self.branches(
                    self.expr(condition, regime, cite), e.span,
                    f"`if {expr_text(condition)}`", "then", "else",
                )  # fmt: skip
                t, o = self.expr(then, regime, cite), self.expr(otherwise, regime, cite)
                return lambda env, tr: t(env, tr) if c(env, tr) else o(env, tr)
            case ast.Call():
                return self._call(e, regime, cite)
            case ast.Lookup():
                return self._lookup(e, regime, cite)
        raise AssertionError(e)

    def _arithmetic(
        self, e: ast.Expr, op: str, left: ast.Expr, right: ast.Expr, regime: str | None, cite: str
    ) -> Fn:
        fn = _ARITHMETIC[op]
        if op in ("+", "-", "*"):
            return self.pair(fn, left, right, regime, cite)
        a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
        span = e.span  # type: ignore[union-attr]

        def divide(env: Env, tr: Trace) -> Any:
            try:
                return fn(a(env, tr), b(env, tr))
            except (ZeroDivisionError, DecimalException) as error:
                raise EvaluationError(f"`{expr_text(e)}`: {_arith_message(error)}", span) from None

        return divide

    def _index(self, node: int) -> dict[str, int]:
        """Member → position, for the ordered enum the checker found at `node`."""
        order = self.model.symbols.members(self.model.enum_of[node])
        return {m: i for i, m in enumerate(order)}

    def _membership(
        self, item: ast.Expr, collection: ast.Expr, negated: bool, regime: str | None, cite: str
    ) -> Fn:
        f = self.expr(item, regime, cite)
        if isinstance(collection, ast.SetLiteral):
            fixed = frozenset(collection.members)
            if negated:
                return lambda env, tr: f(env, tr) not in fixed
            return lambda env, tr: f(env, tr) in fixed
        g = self.expr(collection, regime, cite)
        if negated:
            return lambda env, tr: f(env, tr) not in g(env, tr)
        return lambda env, tr: f(env, tr) in g(env, tr)

    def _call(self, e: ast.Call, regime: str | None, cite: str) -> Fn:
        args = [self.expr(a, regime, cite) for a in e.args]
        name = e.function
        if name in ("min", "max"):
            pick = min if name == "min" else max
            if id(e) in self.model.enum_of:
                index = self._index(id(e))
                return lambda env, tr: pick((f(env, tr) for f in args), key=index.__getitem__)
            if len(args) == 2:
                a, b = args
                return lambda env, tr: pick(a(env, tr), b(env, tr))
            return lambda env, tr: pick([f(env, tr) for f in args])
        if name == "sum":
            key = ("sum", e.args[0].name)  # type: ignore[union-attr]
            return lambda env, tr: env[key]
        if name in ("floor", "ceil"):
            rounding, f = (floor if name == "floor" else ceil), args[0]
            return lambda env, tr: rounding(f(env, tr))
        if name in ("lower", "higher"):
            return self._neighbour(e, name, args[0])
        return self._user_call(e, args, regime)

    def _neighbour(self, e: ast.Call, name: str, f: Fn) -> Fn:
        order = self.model.symbols.members(self.model.enum_of[id(e)])
        step = -1 if name == "lower" else 1
        moves = {m: order[i + step] for i, m in enumerate(order) if 0 <= i + step < len(order)}
        return lambda env, tr: moves[f(env, tr)]

    def _user_call(self, e: ast.Call, args: list[Fn], regime: str | None) -> Fn:
        """A call of a policy function. Functions are pure, so each distinct list of
        arguments is worked out once: later calls reuse its value and its steps."""
        fn_decl = self.model.symbols.functions[e.function]
        signature = self.model.signatures[e.function]
        body = self._function(fn_decl, regime)
        checks = [(p[0], within(p[3]), p[3]) for p in signature.params if p[3] != EVERYTHING]
        step_cite = cite_for(fn_decl.cite, regime, "")
        fname, span = e.function, e.span
        names = tuple(p[0] for p in signature.params)
        memo: dict[tuple[Any, ...], tuple[Any, list[Step]]] = {}

        def work_out(values: tuple[Any, ...]) -> tuple[Any, list[Step]]:
            inner = dict(zip(names, values, strict=True))
            for pname, inside, interval in checks:
                if not inside(inner[pname]):
                    raise EvaluationError(
                        f"`{fname}` was given {pname} = {value_text(inner[pname])}, "
                        f"outside {interval.describe(pname)}",
                        span,
                    )
            steps: list[Step] = []
            value = body(inner, steps)
            text = f"{fname}({', '.join([value_text(v) for v in values])})"
            how = ("call", fname, values)
            steps.append(Step(how, step=text, cite=step_cite, value=shown_value(value)))
            return value, steps

        def call(env: Env, tr: Trace) -> Any:
            values = tuple([f(env, tr) for f in args])
            known = memo.get(values)
            if known is None:
                known = work_out(values)
                if len(memo) < CACHE_LIMIT:
                    memo[values] = known
            tr.extend(known[1])
            return known[0]

        return call

    def _function(self, fn: ast.Function, regime: str | None) -> Fn:
        key = (fn.name, regime)
        if key not in self.functions:
            fallback = (
                cite_for(self.model.symbols.regimes[regime].cite, regime, "") if regime else ""
            )
            cite = cite_for(fn.cite, regime, fallback)
            self.functions[key] = self.body(fn.body, fn.result, regime, cite, final=None)
        return self.functions[key]

    def _lookup(self, e: ast.Lookup, regime: str | None, cite: str) -> Fn:
        table = self.model.tables[e.table]
        keys = [self.expr(k, regime, cite) for k in e.keys]
        step_cite = cite_for(table.cite, regime, cite)
        if table.is_bracket:
            return self._bracket(table, keys[0], step_cite)
        name = e.table
        # each cell's step, made once
        cells = {
            key: Step(
                ("lookup", name, key), step=f"{name}[{_key_text(key)}]", cite=step_cite, value=value
            )
            for key, value in table.cells.items()
        }
        f = keys[0]
        g = keys[1] if len(keys) == 2 else None
        if self.coverage is not None:
            return self._covered_cells(table, cells, f, g)
        if g is not None:

            def two(env: Env, tr: Trace) -> Any:
                found = cells[(f(env, tr), g(env, tr))]
                tr.append(found)
                return found["value"]

            return two

        def one(env: Env, tr: Trace) -> Any:
            found = cells[f(env, tr)]
            tr.append(found)
            return found["value"]

        return one

    def _covered_cells(self, table: TableSpec, cells: dict[Any, Step], f: Fn, g: Fn | None) -> Fn:
        assert self.coverage is not None
        hits, where = self.coverage.hits, place(table.span)  # type: ignore[arg-type]
        marks = {
            key: self.coverage.declare(
                where, f"[{_key_text(key)}]", f"table `{table.name}` cell [{_key_text(key)}]"
            )
            for key in cells
        }  # fmt: skip

        def covered(env: Env, tr: Trace) -> Any:
            key = f(env, tr) if g is None else (f(env, tr), g(env, tr))
            hits.add(marks[key])
            tr.append(cells[key])
            return cells[key]["value"]

        return covered

    def _bracket(self, table: TableSpec, f: Fn, step_cite: str) -> Fn:
        name = table.name
        rows = [(within(interval), value, interval) for interval, value in table.brackets]
        made: dict[Any, Step] = {}
        coverage = self.coverage
        marks: list[str] = []
        if coverage is not None:
            key = table.key_name or "x"
            marks = [
                coverage.declare(place(span), "row", f"table `{name}` row {i.describe(key)}")
                for (_, _, i), span in zip(rows, table.bracket_spans, strict=True)
            ]

        def bracket(env: Env, tr: Trace) -> Any:
            key = f(env, tr)
            found = made.get(key)
            if found is None or marks:
                row = next(n for n, (inside, _, _) in enumerate(rows) if inside(key))
                if marks:
                    coverage.hits.add(marks[row])  # type: ignore[union-attr]
                found = Step(
                    ("lookup", name, key),
                    step=f"{name}[{value_text(key)}]",
                    cite=step_cite,
                    value=rows[row][1],
                )
                if len(made) < CACHE_LIMIT:
                    made[key] = found
            tr.append(found)
            return found["value"]

        return bracket


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else ", ".join(key)


def _arith_message(error: Exception) -> str:
    zero = isinstance(error, ZeroDivisionError) or "zero" in type(error).__name__.lower()
    return "division by zero" if zero else f"arithmetic error ({type(error).__name__})"
