"""Diagnostics: problems found in policy files, as data, rendered in one place.

Input: `Diagnostic` values made by the parser and the checker. Output: text in the form
`file:line:col: error[code]: message`, the source line and a caret underline, or the
same as JSON-ready dicts. Codes are stable and listed in `docs/errors.md`.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.syntax.ast import Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    help: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.column, self.code)


class PolicyError(Exception):
    """A policy could not be loaded; `diagnostics` says every reason why."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.sources = dict(sources)
        super().__init__(render_all(self.diagnostics, self.sources))


LONG_LINE, WINDOW = 160, 60  # a longer source line is shown around the place only


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (CJK) characters count as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(diagnostic: Diagnostic, sources: Mapping[str, str]) -> str:
    """One diagnostic: the location line, the source line and a caret underline."""
    span = diagnostic.span
    if span is None:
        head = f"error[{diagnostic.code}]: {diagnostic.message}"
        return head + (f"\n  = help: {diagnostic.help}" if diagnostic.help else "")
    head = f"{span.file}:{span.line}:{span.column}: error[{diagnostic.code}]: {diagnostic.message}"
    lines = sources.get(span.file, "").splitlines()
    out = [head]
    if 0 < span.line <= len(lines):
        text = lines[span.line - 1].replace("\t", " ")
        gutter = f"{span.line:>4} | "
        start = span.column
        end = span.end_column if span.end_line == span.line else len(text) + 1
        if len(text) > LONG_LINE:  # a window around the place, not the whole line
            first = max(0, start - 1 - WINDOW)
            text = ("…" if first else "") + text[first : start - 1 + WINDOW] + "…"
            shift = first - (1 if first else 0)
            start, end = start - shift, min(end - shift, len(text))
        before = display_width(text[: start - 1])
        width = max(1, display_width(text[start - 1 : max(end, start) - 1]))
        out.append(gutter + text)
        out.append(" " * (len(gutter) - 2) + "| " + " " * before + "^" * width)
    if diagnostic.help:
        out.append(f"     = help: {diagnostic.help}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    return "\n".join(render(d, sources) for d in diagnostics)


def as_dict(diagnostic: Diagnostic) -> dict[str, object]:
    """The JSON form of a diagnostic (`rules check --format json`)."""
    span = diagnostic.span
    out: dict[str, object] = {"code": diagnostic.code, "message": diagnostic.message}
    if span is not None:
        out.update(
            file=span.file,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )
    if diagnostic.help:
        out["help"] = diagnostic.help
    return out


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def unreadable(error: OSError | UnicodeDecodeError, at: Span | None = None) -> Diagnostic:
    """Why a file could not be read, in words (`not UTF-8: byte 0xb6 at offset 2`)."""
    if isinstance(error, UnicodeDecodeError):
        byte = error.object[error.start]
        problem = f"not UTF-8: byte 0x{byte:02x} at offset {error.start}"
        return Diagnostic("unreadable", problem, at, "save it as UTF-8")
    if isinstance(error, FileNotFoundError):
        return Diagnostic("unreadable", "no such file or folder", at)
    return Diagnostic("unreadable", f"cannot read: {(error.strerror or str(error)).lower()}", at)
