"""Assembling a policy from its files, and from its base's when it `extends` one.

Input: a policy's parsed files and, when it `extends` a base, the base's `Assembly`
(the driver, `engine.pipeline.driver`, assembles and checks the base first). Output: an
`Assembly` — the declarations the checker reads (the base's changed as the files say),
every file as parsed (comments kept, for documents), every source text (so that
diagnostics in a base's files show their lines), a digest of every file in the chain,
and the lineage of the changes — or a `PolicyError`. Nothing here checks types or names:
inheritance is a pure step on declarations.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from engine.assembly.inherit import Base, Lineage, effective_years, inherit, without_base
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic, PolicyError, unreadable
from engine.syntax.parse import PolicySyntaxError, parse


@dataclass
class Assembly:
    declarations: list[ast.Declaration]
    modules: list[ast.Module]  # every file as written, the base's first
    sources: dict[str, str]  # file name -> text, the base's included
    digest: str
    lineage: Lineage | None
    years: tuple[int | None, int | None]


def policy_files(path: Path) -> list[Path]:
    """The `.rules` files of a policy folder, in name order; or the one file given."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.rules") if p.is_file())
    return [path]


def read_sources(root: Path, at: ast.Span | None = None) -> dict[str, str]:
    """The texts of a policy's files; `PolicyError` if there are none or one is unreadable."""
    if not root.exists():
        raise PolicyError([Diagnostic("no-policy", f"no policy at `{root}`", at)], {})
    files = policy_files(root)
    if not files:
        raise PolicyError([Diagnostic("no-policy", f"`{root}` holds no `.rules` file", at)], {})
    sources: dict[str, str] = {}
    diags = []
    inside = root.resolve() if root.is_dir() else None
    for file in files:
        if inside is not None and not file.resolve().is_relative_to(inside):
            diags.append(
                Diagnostic(
                    "outside-folder",
                    f"`{file}` leads out of the policy folder (to `{file.resolve()}`)",
                    at,
                    "a policy reads only the files in its own folder",
                )
            )
            continue
        try:
            sources[str(file)] = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            found = unreadable(error, at)
            diags.append(replace(found, message=f"`{file}`: {found.message}"))
    if diags:
        raise PolicyError(diags, sources)
    return sources


def parse_sources(sources: Mapping[str, str]) -> tuple[list[ast.Module], list[Diagnostic]]:
    """Every file that parses, and a diagnostic for each that does not."""
    modules, diags = [], []
    for name, text in sources.items():
        try:
            modules.append(parse(text, name))
        except PolicySyntaxError as error:
            diags.append(error.diagnostic)
    return modules, diags


def digest(sources: Mapping[str, str], base: str = "") -> str:
    """A policy's version: its files' names and texts, and its base's version."""
    sha = hashlib.sha256()
    for name in sorted(sources, key=lambda n: Path(n).name):
        sha.update(Path(name).name.encode() + b"\0" + sources[name].encode() + b"\0")
    if base:
        sha.update(b"extends\0" + base.encode())
    return sha.hexdigest()


def extends(modules: list[ast.Module]) -> ast.PolicyDecl | None:
    """The `policy … extends "…"` line of a policy's files, if it has one."""
    own = [d for m in modules for d in m.declarations]
    return next((d for d in own if isinstance(d, ast.PolicyDecl) and d.extends), None)


def assemble(
    modules: list[ast.Module], sources: Mapping[str, str], base: Assembly | None = None
) -> Assembly:
    """A policy's declarations: its own, or (given its checked `base`) the base's with
    the files' changes applied."""
    own = [d for m in modules for d in m.declarations]
    decl = extends(modules)
    if decl is None or base is None:
        found = without_base(modules)
        if found:
            raise PolicyError(found, dict(sources))
        return Assembly(own, modules, dict(sources), digest(sources), None, effective_years(own))
    declarations, lineage, found = inherit(
        Base(_name(base), base.digest[:12], base.declarations), decl, modules
    )
    everything = {**base.sources, **sources}
    if found:
        raise PolicyError(found, everything)
    lineage.files = tuple(m.file for m in modules)
    return Assembly(
        declarations,
        base.modules + modules,
        everything,
        digest(sources, base.digest),
        lineage,
        effective_years(own),
    )


def base_root(decl: ast.PolicyDecl, chain: tuple[Path, ...]) -> Path:
    """The folder of the base `decl` extends; `PolicyError` for an absolute path or a
    chain that comes back to a policy already in it."""
    assert decl.extends is not None
    if Path(decl.extends).is_absolute():
        raise PolicyError(
            [
                Diagnostic(
                    "extends-path",
                    "`extends` takes the base's folder "
                    "relative to this policy's folder, not an absolute path",
                    decl.span,
                    'e.g. `extends "../base"`',
                )
            ],
            {},
        )
    here = Path(decl.span.file).parent
    root = Path(os.path.normpath(here / decl.extends))
    seen = [p.resolve() for p in (*chain, here)]
    if root.resolve() in seen:
        loop = " → ".join(p.name for p in (*chain, here, root))
        raise PolicyError(
            [Diagnostic("extends-cycle", f"the policy extends itself: {loop}", decl.span)], {}
        )
    return root


def base_error(decl: ast.PolicyDecl, error: PolicyError) -> PolicyError:
    """A base that does not load: its diagnostics, after one that says so on the
    `extends` line (unless they are all about that line already)."""
    if all(d.span is None or d.span == decl.span for d in error.diagnostics):
        return error
    note = Diagnostic(
        "base-error",
        f"the base policy `{decl.extends}` does not load",
        decl.span,
        "its own diagnostics follow; fix the base first",
    )
    return PolicyError([note, *error.diagnostics], error.sources)


def _name(assembly: Assembly) -> str:
    decl = next((d for d in assembly.declarations if isinstance(d, ast.PolicyDecl)), None)
    return decl.name if decl else "base"
