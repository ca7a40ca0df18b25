"""The one pipeline driver: a policy's files to a checked `Model`, stage by stage.

Input: a policy's file texts (or a folder). Output: an `Analysis` — the assembly and the
checked model, or every diagnostic. The stages run in one order for every entry point
(library, CLI, LSP, service): parse → assemble (a base first, analysed as a policy of
its own, so the checker runs once per policy) → check. Compiling is `engine.load`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.assembly.assemble import (
    Assembly,
    assemble,
    base_error,
    base_root,
    extends,
    parse_sources,
    read_sources,
)
from engine.checking.check import check
from engine.checking.model import Model
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic, PolicyError


@dataclass(frozen=True)
class Analysis:
    """What the front stages made of a policy: its model, or why there is none."""

    sources: dict[str, str]
    assembly: Assembly | None = None
    model: Model | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def checked(self) -> tuple[Assembly, Model]:
        """The assembly and model; `PolicyError` with every diagnostic if there is none."""
        if self.assembly is None or self.model is None:
            raise PolicyError(self.diagnostics, self.sources)
        return self.assembly, self.model


def analyze(
    sources: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    chain: tuple[Path, ...] = (),
) -> Analysis:
    """Parse, assemble and check a policy's files; never raises for a wrong policy.
    `params` overrides parameter values (what-if); `chain` is the policies that extend
    this one, to refuse a cycle."""
    try:
        assembly = _assemble(sources, chain)
    except PolicyError as error:
        return Analysis({**error.sources, **sources}, diagnostics=list(error.diagnostics))
    model, diags = check([ast.Module("", tuple(assembly.declarations))], params)
    return Analysis(assembly.sources, assembly, model, diags)


def analyze_path(path: Path, params: Mapping[str, Any] | None = None) -> Analysis:
    """`analyze` of a policy folder or file."""
    try:
        sources = read_sources(path)
    except PolicyError as error:
        return Analysis(error.sources, diagnostics=list(error.diagnostics))
    return analyze(sources, params)


def _assemble(sources: Mapping[str, str], chain: tuple[Path, ...]) -> Assembly:
    modules, diags = parse_sources(sources)
    if diags:
        raise PolicyError(diags, dict(sources))
    decl = extends(modules)
    if decl is None:
        return assemble(modules, sources)
    root = base_root(decl, chain)
    try:
        base_sources = read_sources(root, decl.span)
    except PolicyError as error:
        raise base_error(decl, error) from None
    base = analyze(base_sources, None, (*chain, Path(decl.span.file).parent))
    if base.assembly is None or base.model is None:
        raise base_error(decl, PolicyError(base.diagnostics, base.sources))
    try:
        return assemble(modules, sources, base.assembly)
    except PolicyError as error:
        raise PolicyError(error.diagnostics, {**base.sources, **error.sources}) from None
