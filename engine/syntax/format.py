"""Canonical formatting of `.rules` files.

Input: a parsed module (its comments included). Output: the same declarations printed
one way — four-space indentation, one item per line, table grids with aligned columns
(wide characters count as two), one blank line between declarations — with every
comment kept beside the item it was written next to. Formatting never changes meaning:
`parse(format(src)) == parse(src)`, and formatting twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from engine.syntax import ast
from engine.syntax.diagnostics import display_width
from engine.syntax.printer import (
    anchor_text,
    cell_text,
    credit_text,
    expr_text,
    quote,
    type_text,
)

Line = tuple[int, str]  # (the source line it stands for, its text)
INDENT = "    "


def _label(label: str | None) -> str:
    return f" {quote(label)}" if label is not None else ""


def _cite(cite: ast.Cite | None) -> str:
    if cite is None:
        return ""
    parts = [f"{r} {quote(k)}" if r else quote(k) for r, k in cite.keys]
    return " cite " + ", ".join(parts)


def _years(first: int | None, last: int | None) -> str:
    if first is not None and first == last:
        return str(first)
    return f"{first if first is not None else ''}..{last if last is not None else ''}"


def grid_lines(rows: list[list[str]]) -> list[str]:
    """Rows of cells as `| a | b |` lines, columns aligned by display width."""
    widths = [
        max(display_width(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))
    ]
    out = []
    for row in rows:
        cells = [c + " " * (widths[i] - display_width(c)) for i, c in enumerate(row)]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _statement(stmt: Any, depth: int) -> list[Line]:
    pad = INDENT * depth
    line = stmt.span.line
    match stmt:
        case ast.Let(name, value, cite):
            return [(line, f"{pad}let {name} = {expr_text(value)}{_cite(cite)}")]
        case ast.When(condition, result):
            text = f"{pad}when {expr_text(condition)} then {expr_text(result)}"
            if len(text) <= 100:
                return [(line, text)]
            head = (line, f"{pad}when {expr_text(condition)} then")
            inner = pad + INDENT
            if isinstance(result, ast.Binary) and result.op in ("+", "-"):
                right = expr_text(result.right)
                right = (
                    f"({right})"
                    if isinstance(result.right, ast.Binary)
                    and result.right.op in ("+", "-", "and", "or")
                    else right
                )
                return [
                    head,
                    (result.span.line, inner + expr_text(result.left)),
                    (result.span.end_line, f"{inner}{result.op} {right}"),
                ]
            return [head, (result.span.line, inner + expr_text(result))]
        case ast.Show(name, label, value):
            tail = f" = {expr_text(value)}" if value is not None else ""
            return [(line, f"{pad}show {name}{_label(label)}{tail}")]
        case ast.Requirement(name, label, condition, reason):
            named = f"{name}{_label(label)}: " if name else ""
            otherwise = f" else not qualified {reason}" if reason else ""
            return [(line, f"{pad}requirement {named}{expr_text(condition)}{otherwise}")]
    raise AssertionError(stmt)


def _fact_rules(facts: ast.FactRules) -> list[Line]:
    """The `without:` and `several:` lines of a `facts` kind, each at its own line."""
    parts = [f"not qualified {facts.missing_reason}"] if facts.missing_reason else []
    parts += [f"{name} = {expr_text(value)}" for name, value in facts.defaults]
    out = []
    if parts:
        line = facts.missing_at.line if facts.missing_at else facts.span.end_line
        out.append((line, f"{INDENT}without: {', '.join(parts)}"))
    if facts.several is not None:
        how, name = facts.several
        line = facts.several_at.line if facts.several_at else facts.span.end_line
        out.append((line, f"{INDENT}several: {'not qualified' if how == 'reason' else how} {name}"))
    return out


def _header_and_cite(
    head: str, cite: ast.Cite | None, line: int, cite_line: int, own_line: bool = False
) -> list[Line]:
    """`head cite …` on one line when it fits (and the cite is not wanted on its own
    line), else the cite on the next line."""
    one = head + _cite(cite)
    if cite is None or (len(one) <= 100 and not own_line):
        return [(line, one)]
    return [(line, head), (cite_line, INDENT + _cite(cite).strip())]


def declaration(decl: Any) -> list[Line]:
    """The lines of one declaration."""
    line, end = decl.span.line, decl.span.end_line
    match decl:
        case ast.PolicyDecl(name, label, extends, years, gap):
            base = f" extends {quote(extends)}" if extends is not None else ""
            within = f" years {_years(*years)}" if years is not None else ""
            within += f" gap {_years(gap.first, gap.last)}" if gap is not None else ""
            head = f"policy {name}{_label(label)}"
            if display_width(head + base + within) <= 100 or not (base + within):
                return [(line, head + base + within)]
            return [(line, head), (line, INDENT + (base + within).strip())]
        case ast.Override(replaced):
            (first, text), *rest = declaration(replaced)
            return [(first, f"override {text}"), *rest]
        case ast.TableChange(table, rows, adds, cite):
            verb = "extend" if adds else "override"
            return [(line, f"{verb} table {table}{_cite(cite)} {{"), *_grid(rows), (end, "}")]
        case ast.CellOverride(table, keys, value, cite):
            where = ", ".join(cell_text(k) for k in keys)
            return [(line, f"override table {table}[{where}] = {cell_text(value)}{_cite(cite)}")]
        case ast.RowSplit(table, key, rows, cite):
            head = f"override table {table}[{cell_text(key)}] = {{"
            return [(line, head), *_grid(rows), (end, "}" + _cite(cite))]
        case ast.EnumExtension(enum, members):
            return [(line, f"extend enum {enum} {{"), *_members(members), (end, "}")]
        case ast.KindExtension(kind, fields, requires):
            body = _kind_body(fields, requires)
            return [(line, f"extend kind {kind} {{"), *body, (end, "}")]
        case ast.Category(name, label):
            return [(line, f"category {name}{_label(label)}")]
        case ast.Reason(name, label):
            return [(line, f"reason {name}{_label(label)}")]
        case ast.Param(name, label, value, cite):
            cite_line = cite.span.line if cite else line
            return _header_and_cite(
                f"param {name}{_label(label)} = {expr_text(value)}", cite, line, cite_line
            )
        case ast.Labels(entries):
            width = max((display_width(n) for n, _ in entries), default=0)
            body = [
                (decl.span.line, f"{INDENT}{n}{' ' * (width - display_width(n))} {quote(t)}")
                for n, t in entries
            ]
            return [(line, "labels {"), *body, (end, "}")]
        case ast.Enum(name, label, ordered, members):
            head = f"enum {name}{_label(label)}{' ordered' if ordered else ''} {{"
            return [(line, head), *_members(members), (end, "}")]
        case ast.Regime(name, label, first, last, unit, unit_label, cite):
            body = []
            if "years" in decl.written:
                body.append((line, f"{INDENT}years {_years(first, last)}"))
            if "unit" in decl.written:
                body.append((line, f"{INDENT}unit {unit}{_label(unit_label)}"))
            if cite is not None:
                body.append((cite.span.line, INDENT + _cite(cite).strip()))
            return [(line, f"regime {name}{_label(label)} {{"), *body, (end, "}")]
        case ast.Kind(name, label, like, fields, requires, facts):
            word = "kind" if facts is None else "facts"
            head = f"{word} {name}{_label(label)}{f' like {like}' if like else ''} {{"
            body = _kind_body(fields, requires)
            if facts is not None:
                body += _fact_rules(facts)
            return [(line, head), *body, (end, "}")]
        case ast.Table(name, keys, value_type, label, cite, rows):
            key_text = ", ".join(f"{k.name}: {k.type}" if k.name else k.type for k in keys)
            head = f"table {name}({key_text}) -> {value_type}{_label(label)}"
            cite_line = cite.span.line if cite else line
            lines = _header_and_cite(head, cite, line, cite_line, own_line=True)
            body = _grid(rows)
            if decl.otherwise is not None:
                body.append((decl.otherwise.span.line, INDENT + _otherwise(decl.otherwise)))
            return [*lines, (rows[0].span.line, "{"), *body, (end, "}")]
        case ast.Function(name, params, returns, label, cite, body, result):
            args = ", ".join(f"{p.name}: {type_text(p.type)}" for p in params)
            head = f"function {name}({args}) -> {type_text(returns)}{_label(label)}"
            cite_line = cite.span.line if cite else line
            lines = _header_and_cite(head, cite, line, cite_line, own_line=True)
            stmts = [x for s in body for x in _statement(s, 1)]
            return [
                *lines,
                (lines[-1][0], "{"),
                *stmts,
                (result.span.line, f"{INDENT}return {expr_text(result)}"),
                (end, "}"),
            ]
        case ast.Rule(kind, regimes, label, category, cite, body, result, credit):
            where = f" in {', '.join(regimes)}" if regimes else ""
            lines = [
                (line, f"rule {kind}{where}{_label(label)} {{"),
                (line, f"{INDENT}category {category}"),
            ]
            if cite is not None:
                lines.append((cite.span.line, INDENT + _cite(cite).strip()))
            stmts = [x for s in body for x in _statement(s, 1)]
            return [
                *lines,
                *stmts,
                (result.span.line, f"{INDENT}amount {expr_text(result)}"),
                *([(credit.span.line, INDENT + credit_text(credit))] if credit else []),
                (end, "}"),
            ]
        case ast.Summary(regimes, label, cite, body):
            head = f"summary year in {', '.join(regimes)}{_label(label)} {{"
            return _summary(head, cite, body, line, end)
        case ast.Window(name, regime, first, last, label, cite, body, anchor):
            span = _years(first, last) if anchor is None else anchor_text(anchor)
            head = f"window {quote(name)} in {regime} years {span}{_label(label)} {{"
            return _summary(head, cite, body, line, end)
    raise AssertionError(decl)


def _otherwise(otherwise: ast.Uncounted) -> str:
    return f"otherwise {expr_text(otherwise)}"


def _grid(rows: tuple[ast.Row, ...]) -> list[Line]:
    grid = grid_lines([[cell_text(c) for c in r.cells] for r in rows])
    return [(r.span.line, INDENT + text) for r, text in zip(rows, grid, strict=True)]


def _members(members: tuple[ast.Member, ...]) -> list[Line]:
    width = max((display_width(m.name) for m in members), default=0)
    return [
        (
            m.span.line,
            INDENT + (m.name + " " * (width - display_width(m.name)) + _label(m.label)).rstrip(),
        )
        for m in members
    ]


def _kind_body(fields: tuple[ast.FieldDecl, ...], requires: tuple[Any, ...]) -> list[Line]:
    body: list[Line] = []
    for f in fields:
        optional = "optional " if f.optional else ""
        default = f" = {expr_text(f.default)}" if f.default is not None else ""
        text = f"{INDENT}{f.name}{_label(f.label)}: {optional}{type_text(f.type)}{default}"
        body.append((f.span.line, text))
    for r in requires:
        if isinstance(r, ast.RequireOne):
            body.append((r.span.line, f"{INDENT}require exactly one of {', '.join(r.fields)}"))
        else:
            body.append((r.span.line, f"{INDENT}require {expr_text(r.condition)}{_label(r.label)}"))
    return body


def _summary(head: str, cite: ast.Cite | None, body: Any, line: int, end: int) -> list[Line]:
    lines = [(line, head)]
    if cite is not None:
        lines.append((cite.span.line, INDENT + _cite(cite).strip()))
    lines += [x for s in body for x in _statement(s, 1)]
    return [*lines, (end, "}")]


def format_module(module: ast.Module, source: str) -> str:
    """The canonical text of one parsed file, comments kept. Blank lines: one before a
    declaration of several lines, and elsewhere one where the source had any."""
    blank = {n for n, text in enumerate(source.splitlines(), 1) if not text.strip()}
    pending = sorted(module.comments, key=lambda c: (c.span.line, c.span.column))
    out: list[str] = []
    previous_end = 0
    for decl in module.declarations:
        lines = declaration(decl)
        start = decl.span.line
        leading = [c for c in pending if c.span.line < start]
        pending = [c for c in pending if c.span.line >= start]
        gap = any(previous_end < n < start for n in blank)
        if out and (gap or len(lines) > 1):
            out.append("")
        for i, c in enumerate(leading):
            out.append(f"#{c.text}")
            after = leading[i + 1].span.line if i + 1 < len(leading) else start
            if any(c.span.line < n < after for n in blank):
                out.append("")
        inside = [c for c in pending if c.span.line <= decl.span.end_line]
        pending = [c for c in pending if c.span.line > decl.span.end_line]
        out += _with_comments(lines, inside)
        previous_end = decl.span.end_line
    if pending:
        out.append("")
        out += [f"#{c.text}" for c in pending]
    return "\n".join(out) + "\n"


def _with_comments(lines: list[Line], comments: list[ast.Comment]) -> list[str]:
    """Each comment after the last line that stands for its source line (at the end of
    it), or, alone on its line, before the first line that comes later in the source."""
    out: list[str] = []
    trailing: dict[int, list[str]] = {}
    before: dict[int, list[str]] = {}
    for c in comments:
        text = f"#{c.text}"
        owners = [i for i, (src, _) in enumerate(lines) if src == c.span.line]
        if owners and c.span.column > 1:
            trailing.setdefault(owners[-1], []).append(text)
            continue
        later = next((i for i, (src, _) in enumerate(lines) if src > c.span.line), len(lines) - 1)
        before.setdefault(later, []).append(text)
    for i, (_, text) in enumerate(lines):
        indent = text[: len(text) - len(text.lstrip())] or ("" if i == 0 else INDENT)
        out += [indent + c for c in before.get(i, [])]
        out.append(text + "".join(f"  {c}" for c in trailing.get(i, [])))
    return out
