"""The evaluator: the checked tree of a `Model` compiled once into nested closures.

Input: a `Model` the checker accepted; it reads only the checked tree and assumes every
name resolved, every type fitting, no look-up reaching a hole and no function recursing,
so closures do no checking of their own. Output: for each (kind, regime) a `Program`
whose `run(env, trace)` returns the amount (or `NotCounted`) and appends steps to
`trace`. Any failure at run time surfaces as `EvaluationError` with a source location
(`located`): arithmetic faults at their expression, anything else at its rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import DecimalException
from typing import Any, TypeVar, cast

from engine.checking import tree
from engine.checking.model import CheckedFunction, Model, TableSpec
from engine.checking.types import EVERYTHING
from engine.running.builtins import IMPLEMENTATIONS
from engine.running.coverage import Coverage, place
from engine.running.values import (
    CACHE_LIMIT,
    NotCounted,
    Step,
    divide,
    floor_mod,
    floordiv,
    shown_value,
    step_maker,
    value_text,
    within,
)
from engine.syntax import ast
from engine.syntax.printer import expr_text

Env = dict[Any, Any]  # names (and a summary's `("sum", name)` totals) to values
Trace = list[Any]  # the steps, each a read-only `Step`
Fn = Callable[[Env, Trace], Any]
F = TypeVar("F", bound=Callable[..., Any])


class EvaluationError(Exception):
    """A failure at run time (e.g. a division by zero), with its location."""

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

    def reached(self, fn: F, span: ast.Span, suffix: str, what: str) -> F:
        """`fn` as is, or (measuring coverage) noting that it ran."""
        coverage = self.coverage
        if coverage is None:
            return fn
        key = coverage.declare(place(span), suffix, what)
        hits = coverage.hits

        def noted(env: Env, tr: Trace) -> Any:
            hits.add(key)
            return fn(env, tr)

        return cast(F, noted)

    def programs(self) -> dict[tuple[str, str], Program]:
        out = {}
        regimes = self.model.symbols.regimes
        in_force = {r.name for r in self.model.symbols.in_force()}
        for regime in [*in_force, None]:  # callees first, so no build nests another
            for function in self.model.functions.values():
                self._function(function, regime)
        for (kind, regime), checked in self.model.rules.items():
            if regime not in in_force:
                continue  # inherited from a base, outside this policy's years
            rule = checked.decl
            fallback = cite_for(regimes[regime].cite, regime, "")
            cite = cite_for(rule.cite, regime, fallback)
            final = f"amount {expr_text(rule.result)}"
            run = self.body(checked.body, regime, cite, final=final)
            run = self.reached(run, rule.span, regime, f"rule `{kind}` in `{regime}`")
            run = located(run, rule.span, f"rule `{kind}`")
            out[(kind, regime)] = Program(kind, regime, regimes[regime].unit, rule.category, run)
        return out

    def summary(self, checked: tree.Summary, regime: str) -> SummaryProgram:
        """A year summary or a window: lets, shown values and requirements, in order."""
        node = checked.decl
        fallback = cite_for(self.model.symbols.regimes[regime].cite, regime, "")
        cite = cite_for(node.cite, regime, fallback)
        plan: list[tuple[str, str | None, Fn, Fn | None, Callable[[Any], Step], bool]] = []
        for stmt in checked.statements:
            if isinstance(stmt, tree.Requirement):
                text = f"requirement {expr_text(stmt.source.condition)}"
                plan.append((
                    "require", stmt.name, self.expr(stmt.achieved, regime, cite),
                    self.expr(stmt.required, regime, cite),
                    step_maker(text, cite, ("require", stmt.name, stmt)), stmt.strict,
                ))  # fmt: skip
                continue
            source = stmt.source
            step_cite = cite_for(source.cite, regime, cite) if isinstance(source, ast.Let) else cite
            kind = "show" if isinstance(stmt, tree.Show) else "let"
            text = f"{stmt.name} = {expr_text(stmt.value.source)}"
            plan.append((kind, stmt.name, self.expr(stmt.value, regime, cite), None,
                         step_maker(text, step_cite, ("let", stmt.name, stmt.value)),
                         False))  # fmt: skip

        marks = self._requirement_marks(checked)

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
                value = env[name] = fn(env, sink)
                if trace is not None:
                    trace.append(make(value))
                if kind == "show":
                    shown[name] = value  # type: ignore[index]
            return shown, required

        what = f"window `{node.name}`" if isinstance(node, ast.Window) else "year summary"
        run = self.reached(run, node.span, regime, f"{what} in `{regime}`")
        return SummaryProgram(regime, located(run, node.span, what), checked.sums)

    def _requirement_marks(
        self, checked: tree.Summary
    ) -> tuple[set[str], dict[str | None, dict[bool, str]]] | None:
        """Coverage items for each requirement met and not met (None: not measuring)."""
        if self.coverage is None:
            return None
        marks: dict[str | None, dict[bool, str]] = {}
        for stmt in checked.statements:
            if isinstance(stmt, tree.Requirement):
                source = stmt.source
                where, what = place(source.span), f"requirement `{expr_text(source.condition)}`"
                marks[stmt.name] = {
                    True: self.coverage.declare(where, "met", f"{what} — met"),
                    False: self.coverage.declare(where, "unmet", f"{what} — not met"),
                }
        return self.coverage.hits, marks

    def condition(self, node: tree.Node) -> Fn:
        """A condition outside any rule (a kind's `require`)."""
        return located(self.expr(node, None, ""), node.source.span, "`require`")

    # ── bodies ──────────────────────────────────────────────────────────
    def body(self, body: tree.Body, regime: str | None, cite: str, final: str | None) -> Fn:
        steps: list[tuple[bool, str, Fn, Fn | None, Callable[[Any], Step] | None]] = []
        for stmt in body.statements:
            if isinstance(stmt, tree.Let):
                let = stmt.source
                assert isinstance(let, ast.Let)
                value = self.expr(stmt.value, regime, cite)
                quiet = let.cite is None and isinstance(stmt.value, tree.Lookup | tree.Call)
                text = f"{stmt.name} = {expr_text(let.value)}"
                how: tuple[Any, ...] = ("let", stmt.name, stmt.value)
                make = None if quiet else step_maker(text, cite_for(let.cite, regime, cite), how)
                steps.append((True, stmt.name, value, None, make))
            else:
                when = stmt.source
                text = f"when {expr_text(when.condition)} then {expr_text(when.result)}"
                cond, res = (
                    self.expr(stmt.condition, regime, cite),
                    self.expr(stmt.result, regime, cite),
                )
                how = ("when", stmt.condition, stmt.result)
                steps.append((False, "", cond, res, step_maker(text, cite, how)))
        final_fn = self.expr(body.result, regime, cite)
        final_step = step_maker(final, cite, ("amount", body.result)) if final is not None else None
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
    def pair(
        self,
        op: Callable[[Any, Any], Any],
        left: tree.Node,
        right: tree.Node,
        regime: str | None,
        cite: str,
    ) -> Fn:
        """`op(left, right)`, with the common shapes (a field against a constant or a
        field) fused into one closure."""
        a, b = _leaf(left), _leaf(right)
        if a is not None and b is not None and a[0] == "var":
            x = a[1]
            if b[0] == "const":
                c = b[1]
                return lambda env, tr: op(env[x], c)
            y = b[1]
            return lambda env, tr: op(env[x], env[y])
        f, g = self.expr(left, regime, cite), self.expr(right, regime, cite)
        return lambda env, tr: op(f(env, tr), g(env, tr))

    def expr(self, e: tree.Node, regime: str | None, cite: str) -> Fn:
        """One closure per node; `regime` and `cite` decide the citation keys of steps."""
        match e:
            case tree.Const(value=value) | tree.Param(value=value):
                return _constant(value)
            case tree.Var(name=name):
                return lambda env, tr: env[name]
            case tree.Total(name=name):
                key = ("sum", name)
                return lambda env, tr: env[key]
            case tree.Uncounted(reason=reason):
                outcome = NotCounted(reason)
                return lambda env, tr: outcome
            case tree.Has(name=name):
                return lambda env, tr: name in env
            case tree.Unary(op="-", operand=operand):
                f = self.expr(operand, regime, cite)
                return lambda env, tr: -f(env, tr)
            case tree.Unary(operand=operand):
                f = self.expr(operand, regime, cite)
                return lambda env, tr: not f(env, tr)
            case tree.Binary(op="and", left=left, right=right):
                a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
                return lambda env, tr: a(env, tr) and b(env, tr)
            case tree.Binary(op="or", left=left, right=right):
                a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
                return lambda env, tr: a(env, tr) or b(env, tr)
            case tree.Binary():
                return self._arithmetic(e, regime, cite)
            case tree.Compare(op=op, left=left, right=right, order=order):
                compare = _COMPARE[op]
                if order is not None:
                    a, b = self.expr(left, regime, cite), self.expr(right, regime, cite)
                    index = {m: i for i, m in enumerate(order)}
                    return lambda env, tr: compare(index[a(env, tr)], index[b(env, tr)])
                return self.pair(compare, left, right, regime, cite)
            case tree.Membership():
                return self._membership(e, regime, cite)
            case tree.If(condition=condition, then=then, otherwise=otherwise):
                c = self.branches(
                    self.expr(condition, regime, cite), e.source.span,
                    f"`if {expr_text(condition.source)}`", "then", "else",
                )  # fmt: skip
                t, o = self.expr(then, regime, cite), self.expr(otherwise, regime, cite)
                return lambda env, tr: t(env, tr) if c(env, tr) else o(env, tr)
            case tree.Builtin(name=name, args=args):
                return IMPLEMENTATIONS[name](e, [self.expr(a, regime, cite) for a in args])
            case tree.Call():
                return self._user_call(e, regime, cite)
            case tree.Lookup():
                return self._lookup(e, regime, cite)
        raise AssertionError(e)

    def _arithmetic(self, e: tree.Binary, regime: str | None, cite: str) -> Fn:
        fn = _ARITHMETIC[e.op]
        if e.op in ("+", "-", "*"):
            return self.pair(fn, e.left, e.right, regime, cite)
        a, b = self.expr(e.left, regime, cite), self.expr(e.right, regime, cite)
        source = e.source
        span = source.span

        def divide(env: Env, tr: Trace) -> Any:
            try:
                return fn(a(env, tr), b(env, tr))
            except (ZeroDivisionError, DecimalException) as error:
                message = f"`{expr_text(source)}`: {_arith_message(error)}"
                raise EvaluationError(message, span) from None

        return divide

    def _membership(self, e: tree.Membership, regime: str | None, cite: str) -> Fn:
        f = self.expr(e.item, regime, cite)
        if e.members is not None:
            fixed = e.members
            if e.negated:
                return lambda env, tr: f(env, tr) not in fixed
            return lambda env, tr: f(env, tr) in fixed
        assert e.collection is not None
        g = self.expr(e.collection, regime, cite)
        if e.negated:
            return lambda env, tr: f(env, tr) not in g(env, tr)
        return lambda env, tr: f(env, tr) in g(env, tr)

    def _user_call(self, e: tree.Call, regime: str | None, cite: str) -> Fn:
        """A call of a policy function. Functions are pure, so each distinct list of
        arguments is worked out once: later calls reuse its value and its steps."""
        args = [self.expr(a, regime, cite) for a in e.args]
        function = self.model.functions[e.function]
        signature = function.signature
        body = self._function(function, regime)
        checks = [(p[0], within(p[3]), p[3]) for p in signature.params if p[3] != EVERYTHING]
        regimes = self.model.symbols.regimes
        fallback = cite_for(regimes[regime].cite, regime, "") if regime else ""
        step_cite = cite_for(function.decl.cite, regime, fallback)
        fname, span = e.function, e.source.span
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

    def _function(self, function: CheckedFunction, regime: str | None) -> Fn:
        decl = function.decl
        key = (decl.name, regime)
        if key not in self.functions:
            fallback = (
                cite_for(self.model.symbols.regimes[regime].cite, regime, "") if regime else ""
            )
            cite = cite_for(decl.cite, regime, fallback)
            self.functions[key] = self.body(function.body, regime, cite, final=None)
        return self.functions[key]

    def _lookup(self, e: tree.Lookup, regime: str | None, cite: str) -> Fn:
        table = self.model.tables[e.table]
        keys = [self.expr(k, regime, cite) for k in e.keys]
        step_cite = cite_for(table.cite, regime, cite)
        cites = {k: cite_for(c, regime, step_cite) for k, c in table.cell_cites.items()}
        if table.is_bracket:
            return self._bracket(table, keys[0], [cites.get(n, step_cite) for n in
                                                  range(len(table.brackets))])  # fmt: skip
        name = e.table
        # each cell's step, made once, citing the cell's own clause if a change gave it one
        cells = {
            key: Step(
                ("lookup", name, key),
                step=f"{name}[{_key_text(key)}]",
                cite=cites.get(key, step_cite),
                value=value,
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
        hits, spans = self.coverage.hits, table.cell_spans
        marks = {
            key: self.coverage.declare(
                place(spans[key]), f"[{_key_text(key)}]",
                f"table `{table.name}` cell [{_key_text(key)}]",
            )
            for key in cells
        }  # fmt: skip

        def covered(env: Env, tr: Trace) -> Any:
            key = f(env, tr) if g is None else (f(env, tr), g(env, tr))
            hits.add(marks[key])
            tr.append(cells[key])
            return cells[key]["value"]

        return covered

    def _bracket(self, table: TableSpec, f: Fn, row_cites: list[str]) -> Fn:
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
                    cite=row_cites[row],
                    value=rows[row][1],
                )
                if len(made) < CACHE_LIMIT:
                    made[key] = found
            tr.append(found)
            return found["value"]

        return bracket


def _constant(value: Any) -> Fn:
    return lambda env, tr: value


def _leaf(e: tree.Node) -> tuple[str, Any] | None:
    """`("var", name)` or `("const", value)` for the simplest operands, else None."""
    match e:
        case tree.Const(value=value) | tree.Param(value=value):
            return ("const", value)
        case tree.Var(name=name):
            return ("var", name)
    return None


def located(fn: F, span: ast.Span, what: str) -> F:
    """`fn`, with any failure it did not expect turned into an `EvaluationError` at `span`:
    the one place where run-time failures get their location."""

    def run(env: Env, trace: Any) -> Any:
        try:
            return fn(env, trace)
        except EvaluationError:
            raise
        except Exception as error:  # a defect of the engine, reported where it arose
            message = f"{what} could not be evaluated ({type(error).__name__}: {error})"
            raise EvaluationError(message, span) from error

    return cast(F, run)


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else ", ".join(key)


def _arith_message(error: Exception) -> str:
    zero = isinstance(error, ZeroDivisionError) or "zero" in type(error).__name__.lower()
    return "division by zero" if zero else f"arithmetic error ({type(error).__name__})"
