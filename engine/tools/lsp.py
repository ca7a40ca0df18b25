"""`rules lsp`: a language server for `.rules` files, on pygls.

A document is checked together with the other `.rules` files of its folder (its policy),
using the editor's unsaved text where the editor has one. The server publishes the
checker's diagnostics as you type, shows a name's label, type and citation on hover,
goes to a name's declaration, and formats a document with `rules fmt`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from engine.assembly.assemble import parse_sources
from engine.checking.symbols import Symbols, collect
from engine.pipeline.driver import analyze
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic
from engine.syntax.format import format_module
from engine.syntax.parse import PolicySyntaxError, parse

_WORD = re.compile(r"[^\W\d]\w*")

server = LanguageServer("rules", "0.1.0")


def _sources(path: Path) -> dict[str, str]:
    """The texts of the policy folder of `path`: the editor's where it has them."""
    files = sorted(path.parent.glob("*.rules")) if path.parent.is_dir() else []
    sources = {str(f): f.read_text(encoding="utf-8") for f in files if f != path}
    for document in server.workspace.text_documents.values():
        fs_path = to_fs_path(document.uri)
        if fs_path and Path(fs_path).parent == path.parent:
            sources[str(Path(fs_path))] = document.source
    return sources


def _range(span: ast.Span | None) -> types.Range:
    if span is None or span.line == 0:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    end_line = span.end_line if span.end_line == span.line else span.line
    end = span.end_column if span.end_line == span.line else span.column + 1
    return types.Range(
        types.Position(span.line - 1, span.column - 1), types.Position(end_line - 1, end - 1)
    )


def _to_lsp(d: Diagnostic) -> types.Diagnostic:
    return types.Diagnostic(
        range=_range(d.span),
        message=d.message + (f"\n{d.help}" if d.help else ""),
        severity=types.DiagnosticSeverity.Error,
        code=d.code,
        source="rules",
    )


def diagnostics_for(path: Path) -> dict[str, list[Diagnostic]]:
    """Every file of the policy of `path`, with its diagnostics (maybe none)."""
    sources = _sources(path)
    found = analyze(sources).diagnostics
    by_file: dict[str, list[Diagnostic]] = {name: [] for name in sources}
    for d in found:
        if d.span is not None and d.span.file in by_file:
            by_file[d.span.file].append(d)
        else:
            by_file.setdefault(str(path), []).append(d)
    return by_file


def _publish(uri: str) -> None:
    fs_path = to_fs_path(uri)
    if not fs_path:
        return
    for file, found in diagnostics_for(Path(fs_path)).items():
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=from_fs_path(file) or file, diagnostics=[_to_lsp(d) for d in found]
            )
        )


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    _publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    _publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    _publish(params.text_document.uri)


def _symbols(uri: str) -> Symbols:
    fs_path = to_fs_path(uri) or uri
    sources = _sources(Path(fs_path))
    analysis = analyze(sources)
    if analysis.assembly is not None:
        modules = [ast.Module("", tuple(analysis.assembly.declarations))]
    else:
        modules = parse_sources(sources)[0]  # what parses, for hover while a file is broken
    return collect(modules)[0]


def _word(uri: str, position: types.Position) -> str | None:
    document = server.workspace.get_text_document(uri)
    lines = document.lines
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    for match in _WORD.finditer(line):
        if match.start() <= position.character <= match.end():
            return match.group()
    return None


def _declaration(symbols: Symbols, word: str) -> tuple[Any, str] | None:
    """The declaration a word names, and what to say of it (Markdown)."""
    if word in symbols.tables:
        t = symbols.tables[word]
        keys = " × ".join(k.type for k in t.keys)
        return (
            t,
            f"**table** `{word}` {t.label or ''}\n\n`{keys}` → `{t.value_type}`{_cite(t.cite)}",
        )
    if word in symbols.functions:
        f = symbols.functions[word]
        args = ", ".join(f"{p.name}: {p.type.name}" for p in f.params)
        return (
            f,
            f"**function** `{word}({args}) -> {f.returns.name}` {f.label or ''}{_cite(f.cite)}",
        )
    if word in symbols.params:
        p = symbols.params[word]
        value = p.value.value if isinstance(p.value, ast.Number | ast.Text | ast.Bool) else "?"
        return p, f"**param** `{word}` {p.label or ''} = `{value}`{_cite(p.cite)}"
    if word in symbols.enums:
        e = symbols.enums[word]
        members = "、".join(f"`{m.name}` {m.label or ''}".strip() for m in e.members)
        return e, f"**enum** `{word}` {e.label or ''}{'（有序）' if e.ordered else ''}\n\n{members}"
    if word in symbols.kinds:
        k = symbols.kinds[word]
        fields = "、".join(f"`{f.name}`" for f in k.fields)
        what = "facts" if k.facts is not None else "kind"
        return k, f"**{what}** `{word}` {k.label or ''}\n\nfields: {fields}"
    for table in (symbols.regimes, symbols.categories, symbols.reasons):
        if word in table:
            decl = table[word]
            return decl, f"**{type(decl).__name__.lower()}** `{word}` {decl.label or ''}"
    for e in symbols.enums.values():
        for m in e.members:
            if word in (m.name, m.label):
                return m, f"**member** `{m.name}` {m.label or ''} of enum `{e.name}`"
    for k in symbols.kinds.values():
        for fd in k.fields:
            if fd.name == word:
                kind = f"optional {fd.type.name}" if fd.optional else fd.type.name
                return fd, f"**field** `{word}` {fd.label or ''}: `{kind}` (kind `{k.name}`)"
    return None


def _cite(cite: ast.Cite | None) -> str:
    if cite is None:
        return ""
    return "\n\ncite: " + "; ".join(f"{r} {k}" if r else k for r, k in cite.keys)


def _at(uri: str, position: types.Position) -> tuple[Any, str] | None:
    """The declaration named by the word at `position`, and what to say of it."""
    word = _word(uri, position)
    return _declaration(_symbols(uri), word) if word else None


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
    found = _at(params.text_document.uri, params.position)
    if found is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found[1]))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> types.Location | None:
    found = _at(params.text_document.uri, params.position)
    if found is None:
        return None
    span = found[0].span
    return types.Location(uri=from_fs_path(span.file) or span.file, range=_range(span))


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(
    ls: LanguageServer, params: types.DocumentFormattingParams
) -> list[types.TextEdit] | None:
    document = server.workspace.get_text_document(params.text_document.uri)
    source = document.source
    try:
        formatted = format_module(parse(source, document.path), source)
    except PolicySyntaxError:
        return None
    if formatted == source:
        return []
    end = types.Position(len(document.lines), 0)
    return [types.TextEdit(range=types.Range(types.Position(0, 0), end), new_text=formatted)]


def main() -> int:
    server.start_io()
    return 0
