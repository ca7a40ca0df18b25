"""Static checks: the assembled declarations to a `Model`, or every problem at once.

Input: parsed modules (a base's changes already applied). Output: a `Model` holding the
checked tree of every rule, function, summary and window, or diagnostics sorted by
location. The checker is a named list of stages (`CHECKS`), each a small function over
one shared `Context`; every stage runs, so an officer sees every problem in one go.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from engine.checking import tree
from engine.checking.aggregate import Pool
from engine.checking.builtins import BUILTINS
from engine.checking.model import (
    CheckedFunction,
    CheckedRule,
    FactSpec,
    FieldSpec,
    KindSpec,
    Model,
    Signature,
    TableSpec,
)
from engine.checking.narrow import Binding, Scope
from engine.checking.symbols import Symbols, collect
from engine.checking.tables import SCALAR_TYPES, build_table
from engine.checking.typecheck import ExprChecker
from engine.checking.types import (
    AMOUNT,
    BOOL,
    INT,
    NUMBER,
    TEXT,
    Abstract,
    Interval,
    Ty,
    from_comparison,
    intersect,
)
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic, did_you_mean
from engine.syntax.limits import MAX_CALLS, MAX_SPAN
from engine.syntax.parse import keywords
from engine.syntax.visit import walk

RECORD_FIELDS = ("id", "person", "year", "kind")


@dataclass
class Context:
    symbols: Symbols
    diags: list[Diagnostic]
    params: dict[str, int | Decimal | bool | str] = field(default_factory=dict)
    kinds: dict[str, KindSpec] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)
    functions: dict[str, CheckedFunction] = field(default_factory=dict)
    rules: dict[tuple[str, str], CheckedRule] = field(default_factory=dict)
    summaries: dict[str, tree.Summary] = field(default_factory=dict)
    windows: dict[str, tree.Summary] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # functions, each after those it calls
    exprs: ExprChecker | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def error(
        self, code: str, message: str, span: ast.Span | None, help: str | None = None
    ) -> None:
        self.diags.append(Diagnostic(code, message, span, help))

    @property
    def checker(self) -> ExprChecker:
        if self.exprs is None:
            self.exprs = ExprChecker(self.symbols, self.tables, self.params, self.signatures)
        return self.exprs


def check_names(ctx: Context) -> None:
    """No declaration takes a keyword's name, nor (where expressions name it) a builtin's."""
    symbols = ctx.symbols
    words = keywords()
    expression_names: list[ast.Param | ast.Table | ast.Function] = [
        *symbols.params.values(), *symbols.tables.values(), *symbols.functions.values()
    ]  # fmt: skip
    for named in expression_names:
        _reserved(ctx, named.name, named.span, words | BUILTINS.keys())
    for fn in symbols.functions.values():
        for p in fn.params:
            _reserved(ctx, p.name, p.span, words | BUILTINS.keys())
    for kind in symbols.kinds.values():
        _reserved(ctx, kind.name, kind.span, words)
        for decl in kind.fields:
            if decl.name not in RECORD_FIELDS:  # those are `reserved-field`
                _reserved(ctx, decl.name, decl.span, words | BUILTINS.keys())
    for enum in symbols.enums.values():
        _reserved(ctx, enum.name, enum.span, words)
        for m in enum.members:
            _reserved(ctx, m.name, m.span, words | BUILTINS.keys())
    others: list[ast.Category | ast.Reason | ast.Regime] = [
        *symbols.categories.values(), *symbols.reasons.values(), *symbols.regimes.values()
    ]  # fmt: skip
    for other in others:
        _reserved(ctx, other.name, other.span, words)
    bodies: list[tuple[ast.Statement | ast.SummaryStatement, ...]] = [
        *(f.body for f in symbols.functions.values()), *(r.body for r in symbols.rules),
        *(s.body for s in symbols.summaries), *(w.body for w in symbols.windows.values()),
    ]  # fmt: skip
    for body in bodies:
        for stmt in body:
            if isinstance(stmt, ast.Let | ast.Show):
                _reserved(ctx, stmt.name, stmt.span, words | BUILTINS.keys())


def _reserved(ctx: Context, name: str, span: ast.Span, reserved: Iterable[str]) -> None:
    if name not in reserved:
        return
    what = "a builtin" if name in BUILTINS else "a keyword of the language"
    ctx.error(
        "reserved-name",
        f"`{name}` is {what} and cannot name a declaration",
        span,
        f"choose another name, e.g. `{name}_value`",
    )


def check_regimes(ctx: Context) -> None:
    """Effective years: at least one regime, none overlapping, no gap between them nor
    within the policy's own years."""
    symbols = ctx.symbols
    if not symbols.regimes:
        ctx.error(
            "no-regime",
            "the policy declares no regime",
            None,
            "add e.g. `regime hours { years 2020..2021 unit hours }`",
        )
        return
    for r in symbols.regimes.values():
        if r.first is not None and r.last is not None and r.first > r.last:
            ctx.error(
                "regime-years",
                f"regime `{r.name}` ends ({r.last}) before it starts ({r.first})",
                r.span,
            )
            return
    regimes = symbols.in_force()
    decl = symbols.policy
    if not regimes:
        assert decl is not None and decl.years is not None
        ctx.error(
            "regime-gap",
            f"no regime is in force in the years of policy `{decl.name}`",
            decl.span,
            "override a regime's years to reach them",
        )
        return
    for a, b in itertools.pairwise(regimes):
        if a.last is None or b.first is None or a.last >= b.first:
            ctx.error(
                "regime-overlap",
                f"regimes `{a.name}` and `{b.name}` overlap",
                b.span,
                "a year must fall under one regime only",
            )
        elif b.first > a.last + 1:
            _gap(
                ctx,
                a.last + 1,
                b.first - 1,
                b.span,
                f"extend `{a.name}` or `{b.name}`, or add a regime for those years",
            )
    if decl is not None and decl.years is not None:
        first, last = decl.years
        head, tail = regimes[0], regimes[-1]
        if first is not None and head.first is not None and head.first > first:
            _gap(
                ctx,
                first,
                head.first - 1,
                decl.span,
                f"the policy starts in {first}; extend `{head.name}` back to it",
            )
        if last is not None and tail.last is not None and tail.last < last:
            _gap(
                ctx,
                tail.last + 1,
                last,
                decl.span,
                f"the policy ends in {last}; extend `{tail.name}` to it",
            )
        if first is None and head.first is not None:
            _gap(ctx, None, head.first - 1, decl.span, "the policy has no first year; give it one")
        if last is None and tail.last is not None:
            _gap(
                ctx,
                tail.last + 1,
                None,
                decl.span,
                f"override `{tail.name}` with `years {tail.first}..`, "
                "or give the policy a last year",
            )


def _gap(ctx: Context, first: int | None, last: int | None, span: ast.Span, help: str) -> None:
    if first is not None and first == last:
        years = str(first)
    else:
        years = f"{'' if first is None else first}–{'' if last is None else last}"
    ctx.error("regime-gap", f"no regime covers {years}", span, help)


def check_cites(ctx: Context) -> None:
    """Every regime named in a `cite` exists."""
    for decls in (ctx.symbols.params, ctx.symbols.tables, ctx.symbols.functions):
        for decl in decls.values():
            for node in walk(decl):
                _check_cite(ctx, node)
    for rule in ctx.symbols.rules:
        for node in walk(rule):
            _check_cite(ctx, node)


def _check_cite(ctx: Context, node: object) -> None:
    if isinstance(node, ast.Cite):
        for regime, _ in node.keys:
            if regime is not None and regime not in ctx.symbols.regimes:
                ctx.error(
                    "unknown-name",
                    f"unknown regime `{regime}`",
                    node.span,
                    did_you_mean(regime, ctx.symbols.regimes),
                )


def check_params(ctx: Context) -> None:
    """Parameter values, with any what-if overrides (which must name a parameter and keep
    its type)."""
    for param in ctx.symbols.params.values():
        value = param.value
        if isinstance(value, ast.Number | ast.Text | ast.Bool):
            ctx.params[param.name] = value.value
    for name, value in ctx.overrides.items():
        if name not in ctx.params:
            ctx.error("unknown-name", f"the override names no parameter `{name}`", None,
                      did_you_mean(name, ctx.params))  # fmt: skip
        elif _kind_of(value) != _kind_of(ctx.params[name]):
            ctx.error("type", f"the override of `{name}` must be {_kind_of(ctx.params[name])}, "
                      f"not {_kind_of(value)}", None)  # fmt: skip
        else:
            ctx.params[name] = value


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "yes or no"
    if isinstance(value, int | Decimal):
        return "a number"
    return "a text"


def resolve_type(
    ctx: Context, spec: ast.TypeSpec, allow_amount: bool = False
) -> tuple[Ty, frozenset[str] | None, Interval] | None:
    """A written type to its type, allowed members and allowed interval."""
    symbols = ctx.symbols
    if spec.is_set:
        if spec.name not in symbols.enums:
            ctx.error(
                "unknown-name",
                f"unknown enum `{spec.name}`",
                spec.span,
                did_you_mean(spec.name, symbols.enums),
            )
            return None
        return Ty("set", spec.name), frozenset(symbols.members(spec.name)), Interval()
    if allow_amount and spec.name == "amount":
        return AMOUNT, None, Interval()
    if spec.name in SCALAR_TYPES:
        ty = SCALAR_TYPES[spec.name]
        if not ty.numeric and (spec.bounds or spec.range or spec.members):
            ctx.error("type", f"`{spec.name}` takes no range", spec.span)
        if spec.members is not None:
            ctx.error("type", "a set of members restricts an enum, not a number", spec.span)
        return ty, None, _numeric_interval(ctx, spec) if ty.numeric else Interval()
    if spec.name in symbols.enums:
        return Ty("enum", spec.name), _enum_members(ctx, spec), Interval()
    known = list(SCALAR_TYPES) + list(symbols.enums) + (["amount"] if allow_amount else [])
    ctx.error(
        "unknown-name", f"unknown type `{spec.name}`", spec.span, did_you_mean(spec.name, known)
    )
    return None


def _numeric_interval(ctx: Context, spec: ast.TypeSpec) -> Interval:
    interval = Interval()
    ends = [(b.op, b.value) for b in spec.bounds]
    if spec.range is not None:
        ends += [(">=", spec.range.low), ("<=", spec.range.high)]
    for op, expr in ends:
        value = _constant_number(ctx, expr)
        bound = from_comparison(op, value) if value is not None else None
        if bound is None:
            ctx.error(
                "type", "a range bound is a number, compared with `<`, `<=`, `>` or `>=`", expr.span
            )
            continue
        interval = intersect(interval, bound)
    return interval


def _constant_number(ctx: Context, expr: ast.Expr) -> int | Decimal | None:
    """A number written in a type: a literal, a parameter, or either negated."""
    match expr:
        case ast.Number(value):
            return value
        case ast.Unary("-", operand):
            inner = _constant_number(ctx, operand)
            return None if inner is None else -inner
        case ast.Name(name):
            param = ctx.params.get(name)
            if isinstance(param, int | Decimal) and not isinstance(param, bool):
                return param
    return None


def _enum_members(ctx: Context, spec: ast.TypeSpec) -> frozenset[str] | None:
    symbols, enum = ctx.symbols, spec.name
    order = symbols.members(enum)

    def member(expr: ast.Expr) -> str | None:
        word = expr.name if isinstance(expr, ast.Name) else None
        found = symbols.member(enum, word) if word else None
        if found is None:
            ctx.error(
                "unknown-member",
                f"`{word or 'this'}` is not a member of `{enum}`",
                expr.span,
                did_you_mean(word or "", order),
            )
        return found

    if spec.members is not None:
        found = [member(ast.Name(m, span=spec.members.span)) for m in spec.members.members]
        return frozenset(m for m in found if m)
    if spec.range is None and not spec.bounds:
        return frozenset(order)
    if not symbols.enums[enum].ordered:
        ctx.error(
            "type",
            f"a range of `{enum}` needs an ordered enum",
            spec.span,
            f"declare `enum {enum} ordered {{ … }}`, or list the members: `in {{a, b}}`",
        )
        return None
    if spec.bounds:
        ctx.error("type", f"restrict `{enum}` with `in low..high` or `in {{a, b}}`", spec.span)
        return None
    assert spec.range is not None
    low, high = member(spec.range.low), member(spec.range.high)
    if low is None or high is None:
        return None
    return frozenset(order[order.index(low) : order.index(high) + 1])


def check_kinds(ctx: Context) -> None:
    """Fields, types, defaults and cross-field constraints of every kind."""
    for kind in ctx.symbols.kinds.values():
        chain = _like_chain(ctx, kind)
        if chain is None:
            continue
        fields: dict[str, FieldSpec] = {}
        requires: list[ast.Require | ast.RequireOne] = []
        for part in chain:
            for decl in part.fields:
                spec = _field(ctx, decl)
                if decl.name in fields and part is kind:
                    ctx.error("duplicate", f"field `{decl.name}` is defined twice", decl.span)
                if spec is not None:
                    fields[decl.name] = spec
            requires.extend(part.requires)
        checked = KindSpec(kind.name, kind.label, fields, tuple(requires), kind.span)
        if kind.facts is not None:
            checked.facts = _fact_spec(ctx, kind.facts, fields)
        _check_requires(ctx, checked)
        ctx.kinds[kind.name] = checked


def _fact_spec(ctx: Context, rules: ast.FactRules, fields: dict[str, FieldSpec]) -> FactSpec:
    """A `facts` kind's `without:` defaults and reason, and its `several:` choice."""
    reasons = ctx.symbols.reasons
    several_reason = rules.several[1] if rules.several and rules.several[0] == "reason" else None
    for reason, span in (
        (rules.missing_reason, rules.missing_at),
        (several_reason, rules.several_at),
    ):
        if reason is not None and reason not in reasons:
            ctx.error("unknown-name", f"unknown reason `{reason}`", span or rules.span,
                      did_you_mean(reason, reasons))  # fmt: skip
    defaults: dict[str, Any] = {}
    for name, value in rules.defaults:
        spec = fields.get(name)
        if spec is None:
            ctx.error("unknown-name", f"unknown field `{name}`", value.span,
                      did_you_mean(name, fields))  # fmt: skip
            continue
        members = frozenset(spec.members) if spec.members is not None else None
        defaults[name] = _constant_of(ctx, value, spec.ty, members)
    order = None
    if rules.several is not None and rules.several[0] != "reason":
        how, name = rules.several
        spec = fields.get(name)
        at = rules.several_at or rules.span
        if spec is None:
            ctx.error("unknown-name", f"unknown field `{name}`", at, did_you_mean(name, fields))
        elif spec.ty.base == "enum" and ctx.symbols.enums[spec.ty.enum or ""].ordered:
            order = tuple(ctx.symbols.members(spec.ty.enum or ""))
        elif not spec.ty.numeric:
            ctx.error("type", f"`several: {how} {name}` needs a number or a member of an "
                      f"ordered enum, not {spec.ty}", at)  # fmt: skip
    return FactSpec(rules.missing_reason, defaults, rules.several, order)


def _like_chain(ctx: Context, kind: ast.Kind) -> list[ast.Kind] | None:
    chain, current = [kind], kind
    while current.like is not None:
        base = ctx.symbols.kinds.get(current.like)
        if base is None:
            ctx.error(
                "unknown-name",
                f"unknown kind `{current.like}`",
                current.span,
                did_you_mean(current.like, ctx.symbols.kinds),
            )
            return None
        if base in chain:
            ctx.error("cycle", f"kind `{kind.name}` is `like` itself", kind.span)
            return None
        chain.insert(0, base)
        current = base
    return chain


def _field(ctx: Context, decl: ast.FieldDecl) -> FieldSpec | None:
    if decl.name in RECORD_FIELDS:
        ctx.error(
            "reserved-field",
            f"`{decl.name}` is a field of every record",
            decl.span,
            "every record already has `id`, `person`, `year` and `kind`",
        )
        return None
    _hides_param(ctx, "field", decl.name, decl.span)
    resolved = resolve_type(ctx, decl.type)
    if resolved is None:
        return None
    ty, members, interval = resolved
    default = None
    if decl.default is not None:
        default = _constant_of(ctx, decl.default, ty, members)
    ordered = None
    if members is not None:
        ordered = tuple(m for m in ctx.symbols.members(ty.enum or "") if m in members)
    return FieldSpec(
        decl.name,
        decl.label,
        ty,
        ordered,
        interval,
        optional=decl.optional or default is not None,
        default=default,
        span=decl.span,
        decl=decl,
    )


def _hides_param(ctx: Context, what: str, name: str, span: ast.Span) -> None:
    """A field or function parameter may not take a policy parameter's name: inside the
    kind or function the name would silently mean the other thing."""
    if name in ctx.symbols.params:
        first = ctx.symbols.params[name].span
        ctx.error(
            "duplicate",
            f"{what} `{name}` has the name of the parameter `{name}`",
            span,
            f"the parameter is at {first.file}:{first.line}; in an expression a name means "
            "one thing, so rename one of them",
        )


def _constant_of(ctx: Context, expr: ast.Expr, ty: Ty, members: frozenset[str] | None) -> object:
    if ty.base == "enum":
        return _default_member(ctx, expr, ty.enum or "", members)
    expected = {INT: ast.Number, NUMBER: ast.Number, BOOL: ast.Bool, TEXT: ast.Text}.get(ty)
    if expected is None or not isinstance(expr, expected):
        ctx.error("type", f"the default must be {ty}", expr.span)
        return None
    assert isinstance(expr, ast.Number | ast.Bool | ast.Text)
    return expr.value


def _default_member(
    ctx: Context, expr: ast.Expr, enum: str, members: frozenset[str] | None
) -> str | None:
    """An enum field's default: a member, by name (or by label, as a text)."""
    word = expr.name if isinstance(expr, ast.Name) else getattr(expr, "value", None)
    found = ctx.symbols.member(enum, word) if isinstance(word, str) else None
    allowed = ctx.symbols.members(enum) if members is None else sorted(members)
    if found is None or found not in allowed:
        ctx.error(
            "type",
            f"the default must be a member of `{enum}` the field allows",
            expr.span,
            did_you_mean(str(word), allowed) or f"e.g. `= {allowed[0]}`" if allowed else None,
        )
        return None
    return found


def _check_requires(ctx: Context, kind: KindSpec) -> None:
    """Each `require` of the kind, checked in the kind's own scope (a `like` kind's fields
    may give a name another meaning than in the kind it is like)."""
    checker = ctx.checker
    checker.groups = kind.exactly_one_groups()
    scope = record_scope(kind)
    conditions: list[tuple[ast.Require | ast.RequireOne, tree.Node | None]] = []
    for req in kind.requires:
        if isinstance(req, ast.RequireOne):
            conditions.append((req, None))
            for name in req.fields:
                spec = kind.fields.get(name)
                if spec is None:
                    ctx.error(
                        "unknown-name",
                        f"unknown field `{name}`",
                        req.span,
                        did_you_mean(name, kind.fields),
                    )
                elif not spec.may_be_absent:
                    ctx.error(
                        "type",
                        f"`{name}` must be `optional` (without a default) to be one of "
                        "several alternatives",
                        req.span,
                    )
        else:
            conditions.append((req, checker.boolean(req.condition, scope)))
    checker.groups = []
    kind.conditions = tuple(conditions)


def guaranteed(checker: ExprChecker, kind: KindSpec) -> Scope:
    """A kind's record scope, narrowed by what its `require` lines guarantee."""
    scope = record_scope(kind)
    for _, condition in kind.conditions:
        if condition is not None:
            scope = checker.narrow(condition, True, scope)
    return scope


def record_scope(kind: KindSpec) -> Scope:
    scope: Scope = {"year": Binding(Abstract(INT), origin="year")}
    for spec in kind.fields.values():
        value = Abstract(spec.ty, frozenset(spec.members) if spec.members else None, spec.interval)
        scope[spec.name] = Binding(value, "maybe" if spec.may_be_absent else "present")
    return scope


def check_tables(ctx: Context) -> None:
    for table in ctx.symbols.tables.values():
        spec, diags = build_table(table, ctx.symbols)
        ctx.diags.extend(diags)
        if spec is not None:
            ctx.tables[table.name] = spec


def check_signatures(ctx: Context) -> None:
    for fn in ctx.symbols.functions.values():
        params, names = [], set()
        for p in fn.params:
            if p.name in names:
                ctx.error("duplicate", f"parameter `{p.name}` appears twice", p.span)
            _hides_param(ctx, "the function's parameter", p.name, p.span)
            names.add(p.name)
            resolved = resolve_type(ctx, p.type)
            if resolved is not None:
                params.append((p.name, *resolved))
        returns = resolve_type(ctx, fn.returns, allow_amount=True)
        if returns is not None and len(params) == len(fn.params):
            ctx.signatures[fn.name] = Signature(tuple(params), returns[0], returns[1])


def check_cycles(ctx: Context) -> None:
    """Functions may not call themselves, directly or through others, nor call each other
    more than `MAX_CALLS` deep. Leaves `ctx.order`: every function after those it calls."""
    functions = ctx.symbols.functions
    calls = {
        name: [n.function for n in walk(fn) if isinstance(n, ast.Call) and n.function in functions]
        for name, fn in functions.items()
    }
    depth: dict[str, int] = {}  # done: how deep its calls go
    for root in functions:
        if root in depth:
            continue
        path, pending = [root], [iter(calls[root])]
        while pending:
            callee = next(pending[-1], None)
            if callee is None:
                name = path.pop()
                pending.pop()
                depth[name] = 1 + max((depth.get(c, 0) for c in calls[name]), default=0)
                ctx.order.append(name)
                if depth[name] == MAX_CALLS + 1:
                    _too_deep(ctx, functions[name])
            elif callee in path:
                loop = " → ".join([*path[path.index(callee) :], callee])
                ctx.error(
                    "recursion",
                    f"`{callee}` calls itself: {loop}",
                    functions[callee].span,
                    "the language has no recursion, so that every evaluation ends",
                )
            elif callee not in depth:
                path.append(callee)
                pending.append(iter(calls[callee]))


def _too_deep(ctx: Context, fn: ast.Function) -> None:
    ctx.error(
        "too-deep",
        f"`{fn.name}` calls functions more than {MAX_CALLS} deep, one inside the next",
        fn.span,
        "work some of them out in `let`s of one function instead",
    )


def check_functions(ctx: Context) -> None:
    """Each function's body, callees first (so that later stages can build them in order)."""
    checker = ctx.checker
    functions = ctx.symbols.functions
    for fn in [functions[name] for name in ctx.order]:
        signature = ctx.signatures.get(fn.name)
        if signature is None:
            continue
        scope: Scope = {
            name: Binding(Abstract(ty, members, interval), origin="parameter")
            for name, ty, members, interval in signature.params
        }
        checker.withheld = {}
        body = checker.body(fn.body, fn.result, scope, signature.returns, signature.returns_members)
        checker.withholding[fn.name], checker.withheld = checker.withheld, None
        ctx.functions[fn.name] = CheckedFunction(fn, signature, body)


def check_rules(ctx: Context) -> None:
    """Each rule's kind, regimes, category and body; one rule per kind and regime."""
    symbols, checker = ctx.symbols, ctx.checker
    for rule in symbols.rules:
        kind = ctx.kinds.get(rule.kind)
        if rule.kind not in symbols.kinds:
            ctx.error(
                "unknown-name",
                f"unknown kind `{rule.kind}`",
                rule.span,
                did_you_mean(rule.kind, symbols.kinds),
            )
        if rule.category not in symbols.categories:
            ctx.error(
                "unknown-name",
                f"unknown category `{rule.category}`",
                rule.span,
                did_you_mean(rule.category, symbols.categories),
            )
        if rule.cite is None:
            ctx.error(
                "missing-cite",
                f"rule `{rule.kind}` has no `cite`",
                rule.span,
                'add the clause it comes from, e.g. `cite "§3(1)"`',
            )
        body = None
        if kind is not None and kind.facts is not None:
            ctx.error(
                "fact-rule",
                f"`{rule.kind}` gives facts: its records earn nothing, so it has no rule",
                rule.span,
                f"read its facts in a summary, e.g. `{rule.kind}.FIELD`",
            )
            continue
        if kind is not None:
            checker.groups, checker.withheld = kind.exactly_one_groups(), {}
            scope = guaranteed(checker, kind)
            body = checker.body(rule.body, rule.result, scope, AMOUNT, credit=rule.credit)
            checker.groups, checker.withheld = [], None
        for regime in rule.regimes or tuple(symbols.regimes):
            if regime not in symbols.regimes:
                ctx.error(
                    "unknown-name",
                    f"unknown regime `{regime}`",
                    rule.span,
                    did_you_mean(regime, symbols.regimes),
                )
            elif (rule.kind, regime) in ctx.rules:
                first = ctx.rules[(rule.kind, regime)].decl.span
                ctx.error(
                    "duplicate-rule",
                    f"kind `{rule.kind}` has two rules for regime `{regime}`",
                    rule.span,
                    f"the other is at {first.file}:{first.line}",
                )
            elif body is not None:
                ctx.rules[(rule.kind, regime)] = CheckedRule(rule, body)
    in_force = [r.name for r in symbols.in_force()]
    written = {(r.kind, regime) for r in symbols.rules for regime in r.regimes or symbols.regimes}
    for declared in symbols.kinds.values():
        if declared.facts is not None:
            continue
        for regime in in_force:
            if (declared.name, regime) not in written:
                ctx.error(
                    "missing-rule",
                    f"kind `{declared.name}` has no rule for regime `{regime}`",
                    declared.span,
                    f"add `rule {declared.name} in {regime} {{ … }}`",
                )


def check_summaries(ctx: Context) -> None:
    """Year summaries (one per regime) and windows over them."""
    symbols, checker = ctx.symbols, ctx.checker
    kinds = {name: guaranteed(checker, spec) for name, spec in ctx.kinds.items()}
    facts = {
        name: {f: (Abstract(spec.ty, _members(spec), spec.interval), f in kind.facts.defaults)
               for f, spec in kind.fields.items()}
        for name, kind in ctx.kinds.items()
        if kind.facts is not None
    }  # fmt: skip
    categories = {name: NUMBER for name in symbols.categories}
    pool = Pool(window=False, values=categories, kinds=kinds, facts=facts)
    for summary in symbols.summaries:
        if summary.cite is None:
            ctx.error("missing-cite", "this summary has no `cite`", summary.span,
                      'add the clause it comes from, e.g. `cite "§1"`')  # fmt: skip
        checker.pool = pool
        checked = checker.summary(summary, {"year": Binding(Abstract(INT), origin="year")})
        for regime in summary.regimes:
            if regime not in symbols.regimes:
                ctx.error("unknown-name", f"unknown regime `{regime}`", summary.span,
                          did_you_mean(regime, symbols.regimes))  # fmt: skip
            elif regime in ctx.summaries:
                ctx.error("duplicate", f"regime `{regime}` has two year summaries", summary.span)
            else:
                ctx.summaries[regime] = checked
    for window in symbols.windows.values():
        _check_window(ctx, window)
    checker.pool = None


def _check_window(ctx: Context, window: ast.Window) -> None:
    regime = ctx.symbols.regimes.get(window.regime)
    if regime is None:
        ctx.error("unknown-name", f"unknown regime `{window.regime}`", window.span,
                  did_you_mean(window.regime, ctx.symbols.regimes))  # fmt: skip
        return
    summary = ctx.summaries.get(window.regime)
    if summary is None:
        ctx.error("missing-summary", f"window `{window.name}` adds up the year summaries of "
                  f"`{window.regime}`, which has none", window.span)  # fmt: skip
        return
    inside = (
        regime.first is None or (window.first is not None and window.first >= regime.first)
    ) and (regime.last is None or (window.last is not None and window.last <= regime.last))
    if window.anchor is not None:
        inside = _check_anchor(ctx, window.anchor)
    if not inside:
        ctx.error("window-years", f"window `{window.name}` reaches beyond the years of "
                  f"`{window.regime}`", window.span)  # fmt: skip
    if window.cite is None:
        ctx.error("missing-cite", f"window `{window.name}` has no `cite`", window.span)
    pool = _window_pool(summary)
    anchor = ctx.kinds.get(window.anchor.kind) if window.anchor is not None else None
    if anchor is not None and anchor.facts is not None:  # the anchor record's facts
        fields = {
            f: (Abstract(s.ty, _members(s), s.interval), True) for f, s in anchor.fields.items()
        }
        pool = replace(pool, facts={anchor.name: fields})
    ctx.checker.pool = pool
    ctx.windows[window.name] = ctx.checker.summary(window, {})


def _members(spec: FieldSpec) -> frozenset[str] | None:
    return frozenset(spec.members) if spec.members is not None else None


def _check_anchor(ctx: Context, anchor: ast.Anchor) -> bool:
    """`years N before KIND`: a `facts` kind, and a span of 1 to MAX_SPAN years."""
    kind = ctx.kinds.get(anchor.kind)
    if kind is None:
        ctx.error("unknown-name", f"unknown kind `{anchor.kind}`", anchor.span,
                  did_you_mean(anchor.kind, ctx.kinds))  # fmt: skip
    elif kind.facts is None:
        ctx.error("type", f"a window counts back from the year of a `facts` kind's records; "
                  f"`{anchor.kind}` is not one", anchor.span,
                  f"declare it `facts {anchor.kind} {{ … }}`")  # fmt: skip
    if anchor.fields is not None:
        for name in anchor.fields:
            spec = kind.fields.get(name) if kind is not None else None
            if kind is None or (spec is not None and spec.ty == INT):
                continue
            if spec is None:
                ctx.error("unknown-name", f"unknown field `{name}` of `{anchor.kind}`",
                          anchor.span, did_you_mean(name, kind.fields))  # fmt: skip
            else:
                ctx.error("type", f"`{anchor.kind}.{name}` is a year: it must be an `int`",
                          anchor.span)  # fmt: skip
    elif not 0 < anchor.count <= MAX_SPAN:
        ctx.error("window-years", f"a window spans 1 to {MAX_SPAN} years", anchor.span)
    return True


def _window_pool(summary: tree.Summary) -> Pool:
    """A window reads its years' shown values, `qualified` and each requirement met."""
    shown = {s.name: s.value.domain for s in summary.statements if isinstance(s, tree.Show)}
    outcomes = {name: Binding(domain, origin="outcome") for name, domain in shown.items()}
    outcomes["year"] = Binding(Abstract(INT), origin="year")
    requirements = [s for s in summary.statements if isinstance(s, tree.Requirement)]
    if requirements:
        outcomes["qualified"] = Binding(Abstract(BOOL), origin="outcome")
    named = tuple(str(r.name) for r in requirements if r.name is not None)
    values = {name: domain.ty for name, domain in shown.items() if domain.ty.numeric}
    return Pool(window=True, values=values, outcomes=outcomes, requirements=named)


# the words `labels { … }` may label: a result's and a report row's own keys
HEADINGS = ("id", "person", "year", "kind", "regime", "unit", "category", "amount", "counted",
            "reason", "scope", "window", "required", "shortfall", "qualified", "reasons",
            "fact", "credits", "error", "policy", "version")  # fmt: skip


def check_labels(ctx: Context) -> None:
    """`labels { … }` names only words the engine prints itself."""
    for decl in ctx.symbols.label_decls:
        for name, _ in decl.entries:
            if name not in HEADINGS:
                ctx.error("unknown-name", f"`{name}` is not a word the engine prints",
                          decl.span, did_you_mean(name, HEADINGS)
                          or f"`labels` names: {', '.join(HEADINGS)}")  # fmt: skip


CHECKS: list[Callable[[Context], None]] = [
    check_labels,
    check_names,
    check_regimes,
    check_cites,
    check_params,
    check_tables,  # before kinds: a `require` may look a table up
    check_kinds,
    check_signatures,
    check_cycles,
    check_functions,
    check_rules,
    check_summaries,
]


def check(
    modules: Iterable[ast.Module], overrides: Mapping[str, Any] | None = None
) -> tuple[Model | None, list[Diagnostic]]:
    """Run every check; a `Model` only when there is no diagnostic. `overrides` replace
    parameter values (what-if checks)."""
    symbols, diags = collect(modules)
    ctx = Context(symbols, diags, overrides=dict(overrides or {}))
    for stage in CHECKS:
        stage(ctx)
    diags.extend(ctx.checker.diags)
    if diags:
        return None, sorted(dict.fromkeys(diags), key=Diagnostic.sort_key)
    return Model(
        symbols,
        ctx.kinds,
        ctx.tables,
        ctx.params,
        ctx.functions,
        ctx.rules,
        ctx.summaries,
        ctx.windows,
    ), []
