"""Symbols: every declaration of a policy, by name, and the first check on them.

Input: parsed modules. Output: a `Symbols` table and diagnostics for duplicate
definitions. Tables, functions and parameters share one namespace (they are all names
in expressions); enums, kinds, regimes, categories and reasons have their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic


@dataclass
class Symbols:
    policy: ast.PolicyDecl | None = None
    enums: dict[str, ast.Enum] = field(default_factory=dict)
    categories: dict[str, ast.Category] = field(default_factory=dict)
    reasons: dict[str, ast.Reason] = field(default_factory=dict)
    regimes: dict[str, ast.Regime] = field(default_factory=dict)
    params: dict[str, ast.Param] = field(default_factory=dict)
    kinds: dict[str, ast.Kind] = field(default_factory=dict)
    tables: dict[str, ast.Table] = field(default_factory=dict)
    functions: dict[str, ast.Function] = field(default_factory=dict)
    rules: list[ast.Rule] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)  # `labels { … }`
    label_decls: list[ast.Labels] = field(default_factory=list)  # `labels { … }` as written
    summaries: list[ast.Summary] = field(default_factory=list)
    windows: dict[str, ast.Window] = field(default_factory=dict)

    def member(self, enum: str, word: str) -> str | None:
        """The canonical member of `enum` named or labelled `word`."""
        for m in self.enums[enum].members:
            if word in (m.name, m.label):
                return m.name
        return None

    def labels(self, enum: str | None) -> dict[str, str | None]:
        """Member → label, for one enum (member names repeat across enums)."""
        if enum is None:
            return {}
        return {m.name: m.label for m in self.enums[enum].members}

    def members(self, enum: str) -> list[str]:
        return [m.name for m in self.enums[enum].members]

    def in_force(self) -> list[ast.Regime]:
        """The regimes in force, earliest first, cut to the policy's own `years` if it
        gives them; a regime wholly outside them is left out."""
        years = self.policy.years if self.policy is not None else None
        out = []
        for regime in self.regimes.values():
            first, last = regime.first, regime.last
            if years is not None:
                first = _later(first, years[0])
                last = _earlier(last, years[1])
                if first is not None and last is not None and first > last:
                    continue
            out.append(dataclasses.replace(regime, first=first, last=last))
        return sorted(out, key=lambda r: (r.first is not None, r.first or 0))


_NAMESPACES = {
    ast.Enum: ("enums", "enum"),
    ast.Category: ("categories", "category"),
    ast.Reason: ("reasons", "reason"),
    ast.Regime: ("regimes", "regime"),
    ast.Kind: ("kinds", "kind"),
    ast.Param: ("params", "parameter"),
    ast.Table: ("tables", "table"),
    ast.Function: ("functions", "function"),
}
_EXPRESSION_NAMES = ("params", "tables", "functions")


def collect(modules: Iterable[ast.Module]) -> tuple[Symbols, list[Diagnostic]]:
    symbols, diags = Symbols(), []
    seen: dict[str, tuple[str, ast.Span]] = {}
    for module in modules:
        for decl in module.declarations:
            if isinstance(decl, ast.Change):
                continue  # changes to a base are applied before (`engine.assembly.inherit`)
            if isinstance(decl, ast.Rule):
                symbols.rules.append(decl)
                continue
            if isinstance(decl, ast.Summary):
                symbols.summaries.append(decl)
                continue
            if isinstance(decl, ast.Labels):
                symbols.headings.update(decl.entries)
                symbols.label_decls.append(decl)
                continue
            if isinstance(decl, ast.Window):
                if decl.name in symbols.windows:
                    first = symbols.windows[decl.name].span
                    diags.append(_duplicate("window", decl.name, decl.span, first))
                else:
                    symbols.windows[decl.name] = decl
                continue
            if isinstance(decl, ast.PolicyDecl):
                if symbols.policy is not None:
                    diags.append(_duplicate("policy", decl.name, decl.span, symbols.policy.span))
                else:
                    symbols.policy = decl
                continue
            attr, what = _NAMESPACES[type(decl)]
            table = getattr(symbols, attr)
            key = decl.name
            if attr in _EXPRESSION_NAMES and key in seen:
                diags.append(_duplicate(seen[key][0], key, decl.span, seen[key][1]))
                continue
            if key in table:
                diags.append(_duplicate(what, key, decl.span, table[key].span))
                continue
            table[key] = decl
            if attr in _EXPRESSION_NAMES:
                seen[key] = (what, decl.span)
    for enum in symbols.enums.values():
        diags.extend(_enum_duplicates(enum))
    return symbols, diags


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _duplicate(what: str, name: str, span: ast.Span, first: ast.Span) -> Diagnostic:
    return Diagnostic(
        "duplicate",
        f"`{name}` is defined twice",
        span,
        f"the {what} `{name}` is already defined at {first.file}:{first.line}:{first.column}",
    )


def _enum_duplicates(enum: ast.Enum) -> list[Diagnostic]:
    diags, names, labels = [], set(), set()
    for m in enum.members:
        if m.name in names or m.name in labels:
            diags.append(
                Diagnostic("duplicate", f"`{m.name}` appears twice in enum `{enum.name}`", m.span)
            )
        if m.label is not None and (m.label in labels or m.label in names):
            diags.append(
                Diagnostic(
                    "duplicate",
                    f'label "{m.label}" appears twice in enum `{enum.name}`',
                    m.span,
                    "input and table headers name members by label, so labels must differ",
                )
            )
        names.add(m.name)
        if m.label is not None:
            labels.add(m.label)
    return diags
