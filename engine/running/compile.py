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
from functools import cached_property
from typing import Any, TypeVar, cast

from engine.checking import tree
from engine.checking.model import CheckedFunction, Model, TableSpec, Withheld
from engine.checking.tables import describe_key
from engine.checking.types import EVERYTHING
from engine.running.builtins import IMPLEMENTATIONS
from engine.running.coverage import Coverage, place
from engine.running.values import (
    CACHE_LIMIT,
    FACT,
    Credited,
    Excluded,
    Fact,
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
from engine.syntax.limits import MAX_SPAN
from engine.syntax.printer import credit_text, expr_text

Env = dict[Any, Any]  # names (and a summary's `("sum", name)` totals) to values
Trace = list[Any]  # the steps, each a read-only `Step`
Fn = Callable[[Env, Trace], Any]
F = TypeVar("F", bound=Callable[..., Any])


class EvaluationError(Exception):
    """A failure at run time (e.g. a division by zero), with its location."""

    def __init__(self, message: str, span: ast.Span) -> None:
        super().__init__(f"{span.file}:{span.line}:{span.column}: {message}")
        self.span = span


class OutOfRange(Exception):
    """A record's value the policy's arithmetic cannot take (a span of too many years):
    the record is invalid, for that field."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Program:
    """How one kind's records earn an amount under one regime."""

    kind: str
    regime: str
    unit: str
    category: str
    run: Fn


Requirement = tuple[str | None, Any, Any, bool]  # name, achieved, required (None: a condition), met


@dataclass(frozen=True)
class SummaryProgram:
    """A compiled year summary or window: `run(env, trace)` gives shown values and
    requirements, where `env` holds each total at its `key` and `year`; steps go to
    `trace` unless it is None."""

    regime: str
    run: Callable[[Env, Trace | None], tuple[dict[str, Any], list[Requirement]]]
    sums: tuple[tree.Total, ...]  # what it adds up and counts
    reasons: dict[str, str]  # the reason each requirement written as a condition fails for
    facts: tuple[str, ...]  # the `facts` kinds it reads

    @cached_property
    def slots(self) -> list[tuple[Any, Any]]:
        """Each total's key, and where a person-year's totals hold it: a category's sum
        under the category's name (every record adds to it), anything else under its key."""
        return [
            (t.key, t.name if t.over == "category" and t.function == "sum" else t.key)
            for t in self.sums
        ]


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
            run = _counted_out(self.body(checked.body, regime, cite, final=final))
            if checked.body.credit is not None:
                run = self._credited(run, checked.body.credit, regime, cite)
            run = self.reached(run, rule.span, regime, f"rule `{kind}` in `{regime}`")
            run = located(run, rule.span, f"rule `{kind}`")
            out[(kind, regime)] = Program(kind, regime, regimes[regime].unit, rule.category, run)
        for kind, spec in self.model.kinds.items():
            if spec.facts is not None:
                for regime in in_force:
                    out[(kind, regime)] = Program(kind, regime, regimes[regime].unit, "", _fact)
        return out

    def _credited(self, run: Fn, credit: tree.Credit, regime: str, cite: str) -> Fn:
        """`run`, with a counted amount credited to the years `credit` gives."""
        make = step_maker(credit_text(credit.source), cite, ("credit", credit))
        if credit.each is not None:
            first, last = (self.expr(e, regime, cite) for e in credit.each)
            named = [e.name for e in credit.each if isinstance(e, tree.Var) and e.origin == "field"]
            field_named = named[-1] if named else None

            def each(env: Env, trace: Trace) -> Any:
                value = run(env, trace)
                if type(value) is NotCounted:
                    return value
                a, b = first(env, trace), last(env, trace)
                if not 0 <= b - a < MAX_SPAN:
                    raise OutOfRange(
                        f"the years {a}..{b} credited to are not a span of 1 to {MAX_SPAN} "
                        f"years ({credit_text(credit.source)})",
                        field_named,
                    )
                credited = Credited(value * (b - a + 1), tuple((y, value) for y in range(a, b + 1)))
                trace.append(make(credited))
                return credited

            return each
        parts = [
            (
                None if amount is None else self.expr(amount, regime, cite),
                self.expr(year, regime, cite),
            )
            for amount, year in credit.parts
        ]

        def split(env: Env, trace: Trace) -> Any:
            value = run(env, trace)
            if type(value) is NotCounted:
                return value
            out, left = [], value
            for amount, year in parts:
                part = left if amount is None else amount(env, trace)
                if part < 0 or part > left:
                    raise EvaluationError(
                        f"a part of {part} leaves {left - part} of the amount {value}",
                        credit.source.span,
                    )
                left -= part
                out.append((year(env, trace), part))
            credited = Credited(value, tuple(out))
            trace.append(make(credited))
            return credited

        return split

    def summary(self, checked: tree.Summary, regime: str) -> SummaryProgram:
        """A year summary or a window: lets, shown values and requirements, in order."""
        node = checked.decl
        fallback = cite_for(self.model.symbols.regimes[regime].cite, regime, "")
        cite = cite_for(node.cite, regime, fallback)
        plan: list[tuple[str, str | None, Fn, Fn | None, Callable[[Any], Step], bool]] = []
        for stmt in checked.statements:
            if isinstance(stmt, tree.Requirement):
                text = f"requirement {expr_text(stmt.source.condition)}"
                if stmt.reason is not None:
                    text = f"{text} else not qualified {stmt.reason}"
                required = None if stmt.required is None else self.expr(stmt.required, regime, cite)
                plan.append((
                    "require", stmt.name, self.expr(stmt.achieved, regime, cite), required,
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
                    achieved = fn(env, sink)
                    if rhs is None:  # a condition, failing for a reason
                        needed, met = None, achieved
                    else:
                        needed = rhs(env, sink)
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
        reasons = {
            str(s.name): s.reason
            for s in checked.statements
            if isinstance(s, tree.Requirement) and s.reason is not None
        }
        run = located(run, node.span, what)
        return SummaryProgram(regime, run, checked.sums, reasons, checked.facts)

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
            case tree.Total(key=key, cap=None):
                return lambda env, tr: env[key]
            case tree.Total(key=key, cap=tree.Node() as cap):
                most = self.expr(cap, regime, cite)

                def capped(env: Env, tr: Trace) -> Any:
                    groups, limit = env[key], most(env, tr)
                    return sum([min(g, limit) for g in groups.values()]) if groups else 0

                return capped
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
        memo: dict[tuple[Any, ...], tuple[Any, list[Step], bool]] = {}

        def work_out(values: tuple[Any, ...]) -> tuple[Any, list[Step], bool]:
            inner = dict(zip(names, values, strict=True))
            for pname, inside, interval in checks:
                if not inside(inner[pname]):
                    raise EvaluationError(
                        f"`{fname}` was given {pname} = {value_text(inner[pname])}, "
                        f"outside {interval.describe(pname)}",
                        span,
                    )
            steps: list[Step] = []
            try:
                value, stopped = body(inner, steps), False
            except Excluded as stop:  # a look-up inside left the record out
                value, stopped = stop.outcome, True
            text = f"{fname}({', '.join([value_text(v) for v in values])})"
            how = ("call", fname, values)
            steps.append(Step(how, step=text, cite=step_cite, value=shown_value(value)))
            return value, steps, stopped

        def call(env: Env, tr: Trace) -> Any:
            values = tuple([f(env, tr) for f in args])
            known = memo.get(values)
            if known is None:
                known = work_out(values)
                if len(memo) < CACHE_LIMIT:
                    memo[values] = known
            tr.extend(known[1])
            if known[2]:
                raise Excluded(known[0].reason)
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
        """A look-up: the entry its keys land on, its step made once per distinct key;
        `— REASON` (or beyond the table, `otherwise`) stops the rule with `Excluded`."""
        table = self.model.tables[e.table]
        keys = [self.expr(k, regime, cite) for k in e.keys]
        key_of = _key_maker(keys)
        find = _finder(table)
        step_cite = cite_for(table.cite, regime, cite)
        name = table.name
        beyond = Withheld(table.otherwise) if table.otherwise is not None else None
        marks = self._cell_marks(table)
        hits = self.coverage.hits if self.coverage is not None else set()
        made: dict[Any, tuple[Step, Any, str]] = {}

        def work_out(key: Any) -> tuple[Step, Any, str]:
            found = find(key if type(key) is tuple else (key,))
            text = ", ".join([value_text(k) for k in (key if type(key) is tuple else (key,))])
            if found < 0 and beyond is None:  # the checker rules this out
                raise LookupError(f"`{name}` has no value for [{text}]")
            entry = table.entries[found] if found >= 0 else None
            value = beyond if entry is None else entry.value
            shown = shown_value(NotCounted(value.reason) if type(value) is Withheld else value)
            own = cite_for(entry.cite, regime, step_cite) if entry is not None else step_cite
            step = Step(("lookup", name, key), step=f"{name}[{text}]", cite=own, value=shown)
            return step, value, marks.get(found, "")

        def lookup(env: Env, tr: Trace) -> Any:
            key = key_of(env, tr)
            known = made.get(key)
            if known is None:
                known = work_out(key)
                if len(made) < CACHE_LIMIT:
                    made[key] = known
            if marks:
                hits.add(known[2])
            tr.append(known[0])
            value = known[1]
            if type(value) is Withheld:
                raise Excluded(value.reason)
            return value

        return lookup

    def _cell_marks(self, table: TableSpec) -> dict[int, str]:
        """Coverage items: each entry with a value or a reason, at its own place (a changed
        cell's is in the file that changes it), and `otherwise` (-1)."""
        if self.coverage is None:
            return {}
        marks: dict[int, str] = {}
        alone = len(table.key_types) == 1 and table.numbers
        for n, entry in enumerate(table.entries):
            if entry.value is None:
                continue
            if not table.numbers:
                text = f"[{', '.join(entry.keys)}]"
                marks[n] = self.coverage.declare(
                    place(entry.span), text, f"table `{table.name}` cell {text}"
                )
                continue
            text = " × ".join(
                describe_key(k, name, bool(alone)).strip("`")
                for k, name in zip(entry.keys, table.key_names, strict=True)
            )
            what = f"row {text}" if alone else f"cell [{text}]"
            marks[n] = self.coverage.declare(
                place(entry.span), "row", f"table `{table.name}` {what}"
            )
        if table.otherwise is not None:
            marks[-1] = self.coverage.declare(
                place(table.span),  # type: ignore[arg-type]
                "otherwise",
                f"table `{table.name}` otherwise (not counted {table.otherwise})",
            )
        return marks


def _key_maker(keys: list[Fn]) -> Fn:
    """The key of a look-up: one value, or a tuple of them."""
    if len(keys) == 1:
        return keys[0]
    if len(keys) == 2:
        f, g = keys
        return lambda env, tr: (f(env, tr), g(env, tr))
    return lambda env, tr: tuple([k(env, tr) for k in keys])


def _finder(table: TableSpec) -> Callable[[tuple[Any, ...]], int]:
    """The index of the entry keys land on; -1 beyond the table's rows and columns."""
    numbers = table.numbers
    if not numbers:
        index = {e.keys: n for n, e in enumerate(table.entries) if e.value is not None}
        return lambda key: index.get(key, -1)
    enums = [i for i in range(len(table.key_types)) if i not in numbers]
    groups: dict[tuple[Any, ...], list[tuple[list[tuple[int, Callable[[Any], bool]]], int]]] = {}
    for n, e in enumerate(table.entries):
        if e.value is not None:
            tests = [(i, within(e.keys[i])) for i in numbers]
            groups.setdefault(tuple(e.keys[i] for i in enums), []).append((tests, n))

    def find(key: tuple[Any, ...]) -> int:
        for tests, n in groups.get(tuple([key[i] for i in enums]), ()):
            if all(inside(key[i]) for i, inside in tests):
                return n
        return -1

    return find


def _constant(value: Any) -> Fn:
    return lambda env, tr: value


def _counted_out(fn: Fn) -> Fn:
    """A rule's body, whose record is not counted where a look-up says so (`Excluded`)."""

    def run(env: Env, trace: Trace) -> Any:
        try:
            return fn(env, trace)
        except Excluded as stop:
            return stop.outcome

    return run


def _leaf(e: tree.Node) -> tuple[str, Any] | None:
    """`("var", name)` or `("const", value)` for the simplest operands, else None."""
    match e:
        case tree.Const(value=value) | tree.Param(value=value):
            return ("const", value)
        case tree.Var(name=name):
            return ("var", name)
    return None


def _fact(env: Env, trace: Trace) -> Fact:
    return FACT  # a `facts` kind's record earns nothing


def located(fn: F, span: ast.Span, what: str) -> F:
    """`fn`, with any failure it did not expect turned into an `EvaluationError` at `span`:
    the one place where run-time failures get their location."""

    def run(env: Env, trace: Any) -> Any:
        try:
            return fn(env, trace)
        except (EvaluationError, OutOfRange):
            raise
        except Exception as error:  # a defect of the engine, reported where it arose
            message = f"{what} could not be evaluated ({type(error).__name__}: {error})"
            raise EvaluationError(message, span) from error

    return cast(F, run)


def _arith_message(error: Exception) -> str:
    zero = isinstance(error, ZeroDivisionError) or "zero" in type(error).__name__.lower()
    return "division by zero" if zero else f"arithmetic error ({type(error).__name__})"
