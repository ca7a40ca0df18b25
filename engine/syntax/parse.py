"""Parsing: `.rules` text to the syntax tree of `engine.syntax.ast`.

Input: one file's text and its name. Output: an `ast.Module`, or `PolicySyntaxError`
carrying one located diagnostic in words an officer understands. Lark's concrete tree
is converted here, at one border; no other module imports `lark`.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.lexer import PatternStr

from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic
from engine.syntax.limits import MAX_DEPTH, MAX_INTEGER_DIGITS, MAX_PLACES, MAX_SOURCE
from engine.syntax.resources import grammar_path

FULL_WIDTH = {
    "，": ",",
    "：": ":",
    "（": "(",
    "）": ")",
    "【": "[",
    "】": "]",
    "｛": "{",
    "｝": "}",
    "“": '"',
    "”": '"',
    "｜": "|",
    "；": ";",
    "＝": "=",
    "＜": "<",
    "＞": ">",
    "．": ".",
    "－": "-",
    "＋": "+",
    "＊": "*",
    "／": "/",
}

TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a quoted text like "标签"',
    "CMP": "a comparison (`<`, `<=`, `==`, `!=`, `>=`, `>`)",
    "MUL_OP": "`*`, `/`, `//` or `%`",
    "MINUS": "`-`",
    "HOLE": "`—` (a hole)",
    "$END": "the end of the file",
}

_ESCAPE = re.compile(r"\\(.)")

# Mistakes officers make, as small programs that make them: Lark matches the parser state
# of a syntax error against these and the label becomes the diagnostic's help.
COMMON_MISTAKES = {
    "to compare, write `==`; a single `=` gives a name its value": [
        'rule k { category c cite "x" when a = 1 then 2 amount 1 }',
        'rule k { category c cite "x" amount if a = 1 then 1 else 2 }',
        "kind k { n: int require n = 1 }",
    ],
    "`when CONDITION then RESULT`: the `then` is missing": [
        'rule k { category c cite "x" when a > 1 not counted x amount 1 }',
        'rule k { category c cite "x" when a > 1 2 amount 1 }',
    ],
    "no `:` after `amount` or `return`": [
        'rule k { category c cite "x" amount: 1 }',
        "function f() -> int { return: 1 }",
    ],
    "a field is `name: type`, e.g. `words: int >= 0`": [
        "kind k { n int }",
        'kind k { n "标签" int }',
    ],
    "a table row starts and ends with `|`": ["table t(level) -> int { | a | b |\n| x | 1 }"],
}


class PolicySyntaxError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


_COMMENTS: list[Token] = []  # filled by the lexer during one parse, under _LOCK
_LOCK = threading.Lock()


@functools.cache
def parser() -> Lark:
    """The LALR parser, built once from the grammar file."""
    return Lark(
        Path(grammar_path()).read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _COMMENTS.append},
    )


@functools.cache
def keywords() -> frozenset[str]:
    """The words of the grammar itself (`rule`, `when`, `table`, …): no name may be one."""
    return frozenset(re.findall(r'"([a-z_]+)"', Path(grammar_path()).read_text(encoding="utf-8")))


def parse(source: str, file: str) -> ast.Module:
    """Parse one file; raise `PolicySyntaxError` at the first syntax error, or where the
    file is larger or nests deeper than the language allows."""
    if source.startswith("\ufeff"):
        source = source[1:]
    if len(source) > MAX_SOURCE:
        span = ast.Span(file, 1, 1, 1, 2)
        raise PolicySyntaxError(
            Diagnostic(
                "too-large",
                f"the file has {len(source):,} characters; a policy file has at most "
                f"{MAX_SOURCE:,}",
                span,
                "split the policy into several files in its folder",
            )
        )
    _check_parentheses(source, file)
    with _LOCK:
        _COMMENTS.clear()
        try:
            tree = parser().parse(source)
        except UnexpectedInput as error:
            raise PolicySyntaxError(_syntax_diagnostic(error, source, file)) from None
        finally:
            tokens = list(_COMMENTS)
            _COMMENTS.clear()
    _check_depth(tree, file)
    comments = tuple(
        ast.Comment(
            t[1:].rstrip(),
            span=ast.Span(file, t.line or 0, t.column or 0, t.end_line or 0, t.end_column or 0),
        )
        for t in tokens
    )
    try:
        declarations = tuple(_ToAst(file).transform(tree).children)
    except VisitError as error:  # a check made while building the tree
        if isinstance(error.orig_exc, PolicySyntaxError):
            raise error.orig_exc from None
        raise
    return ast.Module(file, declarations, comments)


_QUOTED = re.compile(r'"(\\.|[^"\\\n])*"|#[^\n]*')
MAX_PARENTHESES = MAX_DEPTH // 2


def _check_parentheses(source: str, file: str) -> None:
    """Refuse parentheses nested deeper than an expression may be (they leave no trace in
    the tree, so `_check_depth` cannot see them)."""
    if source.count("(") <= MAX_PARENTHESES:
        return
    plain = _QUOTED.sub(lambda m: " " * len(m.group()), source)  # texts and comments aside
    depth = 0
    for match in re.finditer(r"[()（）]", plain):
        depth += 1 if match.group() in "(（" else -1
        if depth > MAX_PARENTHESES:
            line = plain.count("\n", 0, match.start()) + 1
            column = match.start() - plain.rfind("\n", 0, match.start())
            span = ast.Span(file, line, column, line, column + 1)
            raise PolicySyntaxError(
                Diagnostic(
                    "too-deep",
                    f"parentheses are nested more than {MAX_PARENTHESES} deep here",
                    span,
                    "name the inner parts with `let`, or split the expression",
                )
            )


def _check_depth(tree: Tree[Token], file: str) -> None:
    """Refuse trees nested deeper than `MAX_DEPTH`, before anything recurses into them."""
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            span = _span(file, meta)
            raise PolicySyntaxError(
                Diagnostic(
                    "too-deep",
                    f"this is nested more than {MAX_DEPTH} levels deep",
                    span,
                    "name the inner parts with `let`, or split the expression",
                )
            )
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + 1))
            elif isinstance(child, Token) and child.type == "NUMBER":
                _check_number(child, file)


def _check_number(token: Token, file: str) -> None:
    """A number of the policy has at most as many digits as a record's may."""
    whole, _, places = str(token).partition(".")
    if len(whole.lstrip("0")) <= MAX_INTEGER_DIGITS and len(places) <= MAX_PLACES:
        return
    span = ast.Span(
        file, token.line or 0, token.column or 0, token.end_line or 0, token.end_column or 0
    )
    raise PolicySyntaxError(
        Diagnostic(
            "number-limit",
            f"a number has at most {MAX_INTEGER_DIGITS} digits before the point "
            f"and {MAX_PLACES} after it",
            span,
            "numbers beyond that are not amounts of a notice",
        )
    )


def _describe_terminal(name: str) -> str:
    if name in TERMINAL_WORDS:
        return TERMINAL_WORDS[name]
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if isinstance(pattern, PatternStr) else name.lower()


def _expected_words(names: set[str]) -> str:
    words = sorted({_describe_terminal(n) for n in names})
    if len(words) > 8:
        words = [*words[:8], "…"]
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def _character(char: str) -> str:
    """A character as a message shows it: itself, or its code and name if it is invisible."""
    if unicodedata.category(char)[0] in "CZ" and char != " ":
        name = unicodedata.name(char, "a control character")
        return f"U+{ord(char):04X} ({name.lower()})"
    return f"`{char}`"


def _syntax_diagnostic(error: UnexpectedInput, source: str, file: str) -> Diagnostic:
    line, column = error.line, error.column
    ended = isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    )
    at = len(source.splitlines()) + 1 if ended or not line or line < 0 else line
    table = _empty_cell(source, at, file) or _unclosed_table(source, at, file)
    if table is not None:
        return table
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream or 0]
        span = ast.Span(file, line, column, line, column + 1)
        if char in FULL_WIDTH:
            return Diagnostic(
                "full-width-punctuation",
                f"full-width `{char}` is not part of the language",
                span,
                f"type the ASCII `{FULL_WIDTH[char]}` instead; if it belongs to a label or a "
                f'table\'s word (`子课题（项目）组`), quote the word: `"子课题（项目）组"`',
            )
        text = source.splitlines()[line - 1] if 0 < line <= len(source.splitlines()) else ""
        unclosed = text.count('"') % 2 == 1
        cell = None if unclosed else _table_cell(source, line, column, file)
        if cell is not None:
            return cell
        return Diagnostic(
            "unexpected-character",
            f"unexpected character {_character(char)}",
            span,
            "a quoted text on this line is not closed" if unclosed else None,
        )
    if isinstance(error, UnexpectedToken) and not ended:
        cell = _table_cell(source, line, column, file)
        if cell is not None:
            return cell
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        token = error.token
        found = f"`{token}`" if token.type != "NAME" else f"the name `{token}`"
        span = ast.Span(file, line, column, token.end_line or line, token.end_column or column + 1)
        expected = _expected_words(set(error.expected))
        hint = error.match_examples(parser().parse, COMMON_MISTAKES, use_accepts=True)
        return Diagnostic("syntax", f"expected {expected}, found {found}", span, hint)
    expected = _expected_words(set(getattr(error, "expected", ()) or ()))
    last = source.rstrip().splitlines() or [""]
    line = len(last)
    column = len(last[-1]) + 1
    span = ast.Span(file, line, column, line, column + 1)
    assert isinstance(error, UnexpectedToken | UnexpectedEOF)
    return Diagnostic(
        "unexpected-end",
        f"the file ends too early: expected {expected}",
        span,
        "a declaration may be unfinished, or a `}` missing",
    )


_ROW = re.compile(r"^\s*\|")
_EMPTY = re.compile(r"\|([ \t]*)\|")
_DECLARATION = re.compile(
    r"^\s*(policy|labels|enum|category|reason|regime|param|kind|facts|table|function|rule"
    r"|summary|window|override|extend)\b"
)
_TABLE_HEAD = re.compile(r"^\s*(?:override\s+|extend\s+)?table\s+([^\W\d]\w*)")


def _empty_cell(source: str, before: int, file: str) -> Diagnostic | None:
    """An empty cell (`| 甲 |  |`) in a table row up to the error's line."""
    for number, text in enumerate(source.splitlines()[:before], 1):
        row = text.split("#", 1)[0]
        if not _ROW.match(row) or '"' in row:
            continue
        empty = _EMPTY.search(row)
        if empty is not None:
            column = empty.start() + 2
            span = ast.Span(file, number, column, number, column + max(len(empty.group(1)), 1))
            return Diagnostic(
                "table-cell",
                "this cell is empty",
                span,
                "write `—` where the notice gives no value (or `— REASON`)",
            )
    return None


def _unclosed_table(source: str, line: int, file: str) -> Diagnostic | None:
    """A declaration that starts while a table's rows are still open (a missing `}`)."""
    lines = source.splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text and not _DECLARATION.match(text):  # the error is not a declaration's start
        return None
    written = [t.split("#", 1)[0].rstrip() for t in lines if t.strip()]
    if not text and written and _ROW.match(written[-1]) and not written[-1].endswith("|"):
        return None  # the file ends inside a row: that row is what is unfinished
    opened: list[int] = []  # the lines of the `{` not yet closed
    for number, row in enumerate(lines[: line - 1], 1):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', row).split("#", 1)[0]
        for char in code:
            if char == "{":
                opened.append(number)
            elif char == "}" and opened:
                opened.pop()
    if not opened:
        return None
    head = next((n for n in range(opened[-1], 0, -1) if _TABLE_HEAD.match(lines[n - 1])), None)
    if head is None or head < opened[-1] - 3:
        return None
    name = _TABLE_HEAD.match(lines[head - 1]).group(1)  # type: ignore[union-attr]
    last = max(n for n in range(opened[-1], line) if _ROW.match(lines[n - 1]) or n == opened[-1])
    span = ast.Span(file, head, 1, head, len(lines[head - 1]) + 1)
    return Diagnostic(
        "table-unclosed",
        f"the table `{name}` that starts at line {head} is not closed",
        span,
        f"end its rows with `}}` (after line {last}, before line {line})",
    )


def _table_cell(source: str, line: int, column: int, file: str) -> Diagnostic | None:
    """A syntax error inside a table row's cell (`2O`, `20分`): the cell, as the officer
    wrote it, and what a cell may be — not a list of the grammar's words."""
    lines = source.splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if not text.lstrip().startswith("|"):
        return None
    start = text.rfind("|", 0, column - 1) + 1
    end = text.find("|", column - 1)
    if start <= 0 or end < 0:
        return None
    written = text[start:end].strip()
    if not written:
        return None
    first = start + len(text[start:end]) - len(text[start:end].lstrip()) + 1
    span = ast.Span(file, line, first, line, first + len(written))
    if written[0].isdigit():
        help = "write the number alone: `20`, not `20分`; the digit 0, not the letter O"
    else:
        help = f'a word with spaces or punctuation goes in quotes: `"{written}"`'
    return Diagnostic(
        "table-cell",
        f"the cell `{written}` is not a number, a range, a member, `—` or a quoted text",
        span,
        help,
    )


def _span(file: str, meta: Any) -> ast.Span:
    if getattr(meta, "empty", True):
        return ast.Span(file, 0, 0, 0, 0)
    return ast.Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _number(text: str) -> int | Decimal:
    return Decimal(text) if "." in text else int(text)


class _Label(str):
    """A declaration's quoted label, told apart from names among children."""


class _Several(NamedTuple):
    how: str  # reason | highest | lowest
    name: str
    span: ast.Span


class _Missing:
    """A `without:` clause, or one part of it."""

    def __init__(
        self,
        reason: str | None,
        value: tuple[str, Any] | None,
        values: list[Any] | None = None,
        span: ast.Span | None = None,
    ) -> None:
        self.reason, self.value, self.values, self.span = reason, value, values or [], span


class _Default:
    def __init__(self, value: ast.Expr) -> None:
        self.value = value


class _Years:
    def __init__(self, first: int | None, last: int | None) -> None:
        self.first, self.last = first, last


class _Extends:
    def __init__(self, value: str) -> None:
        self.value = value


class _Unit:
    def __init__(self, name: str, label: str | None) -> None:
        self.name, self.label = name, label


_OPS = {"×": "*", "÷": "/", "−": "-", "≤": "<=", "≥": ">=", "≠": "!="}


def _label(children: list[Any]) -> str | None:
    return next((str(c) for c in children if isinstance(c, _Label)), None)


def _of(kind: type, children: list[Any]) -> Any:
    return next((c for c in children if isinstance(c, kind)), None)


def _all(kind: type | tuple[type, ...], children: list[Any]) -> tuple[Any, ...]:
    return tuple(c for c in children if isinstance(c, kind))


def _names(children: list[Any]) -> list[str]:
    return [str(c) for c in children if isinstance(c, Token) and c.type == "NAME"]


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """Lark tree → `engine.syntax.ast`, one method per grammar rule."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    def _s(self, meta: Any) -> ast.Span:
        return _span(self.file, meta)

    # declarations
    def label(self, meta: Any, ch: list[Token]) -> _Label:
        return _Label(_ESCAPE.sub(r"\1", ch[0][1:-1]))

    def policy(self, meta: Any, ch: list[Any]) -> ast.PolicyDecl:
        years = _of(_Years, ch)
        base = next((c.value for c in ch if isinstance(c, _Extends)), None)
        return ast.PolicyDecl(
            str(ch[0]),
            _label(ch),
            base,
            (years.first, years.last) if years else None,
            _of(ast.Gap, ch),
            span=self._s(meta),
        )

    def gap(self, meta: Any, ch: list[_Years]) -> ast.Gap:
        return ast.Gap(ch[0].first, ch[0].last, span=self._s(meta))

    def extends(self, meta: Any, ch: list[Token]) -> _Extends:
        return _Extends(_ESCAPE.sub(r"\1", ch[0][1:-1]))

    def category(self, meta: Any, ch: list[Any]) -> ast.Category:
        return ast.Category(str(ch[0]), _label(ch), span=self._s(meta))

    def reason(self, meta: Any, ch: list[Any]) -> ast.Reason:
        return ast.Reason(str(ch[0]), _label(ch), span=self._s(meta))

    def member(self, meta: Any, ch: list[Any]) -> ast.Member:
        return ast.Member(str(ch[0]), _label(ch), span=self._s(meta))

    def enum(self, meta: Any, ch: list[Any]) -> ast.Enum:
        ordered = any(isinstance(c, Token) and c.type == "ORDERED" for c in ch)
        members = _all(ast.Member, ch)
        return ast.Enum(str(ch[0]), _label(ch), ordered, members, span=self._s(meta))

    def years_between(self, meta: Any, ch: list[Token]) -> _Years:
        return _Years(self._year(ch[0]), self._year(ch[1]))

    def years_upto(self, meta: Any, ch: list[Token]) -> _Years:
        return _Years(None, self._year(ch[0]))

    def years_from(self, meta: Any, ch: list[Token]) -> _Years:
        return _Years(self._year(ch[0]), None)

    def years_single(self, meta: Any, ch: list[Token]) -> _Years:
        return _Years(self._year(ch[0]), self._year(ch[0]))

    def _year(self, token: Token) -> int:
        if "." in token or not 0 < int(token) < 10_000:
            span = ast.Span(
                self.file,
                token.line or 0,
                token.column or 0,
                token.end_line or 0,
                token.end_column or 0,
            )
            raise PolicySyntaxError(
                Diagnostic(
                    "syntax",
                    f"`{token}` is not a year",
                    span,
                    "a year is a whole number, such as 2021",
                )
            )
        return int(token)

    def years(self, meta: Any, ch: list[_Years]) -> _Years:
        return ch[0]

    def unit(self, meta: Any, ch: list[Any]) -> _Unit:
        return _Unit(str(ch[0]), _label(ch))

    def regime(self, meta: Any, ch: list[Any]) -> ast.Regime:
        parts = {"years": _of(_Years, ch), "unit": _of(_Unit, ch), "cite": _of(ast.Cite, ch)}
        years = parts["years"] or _Years(None, None)
        unit = parts["unit"] or _Unit(str(ch[0]), None)
        return ast.Regime(
            str(ch[0]),
            _label(ch),
            years.first,
            years.last,
            unit.name,
            unit.label,
            parts["cite"],
            span=self._s(meta),
            written=tuple(name for name, part in parts.items() if part is not None),
        )

    def cite_all(self, meta: Any, ch: list[Token]) -> ast.Cite:
        return ast.Cite(((None, _ESCAPE.sub(r"\1", ch[0][1:-1])),), span=self._s(meta))

    def cite_by_regime(self, meta: Any, ch: list[Token]) -> ast.Cite:
        pairs = tuple(
            (str(ch[i]), _ESCAPE.sub(r"\1", ch[i + 1][1:-1])) for i in range(0, len(ch), 2)
        )
        return ast.Cite(pairs, span=self._s(meta))

    def param(self, meta: Any, ch: list[Any]) -> ast.Param:
        value = next(c for c in ch[1:] if not isinstance(c, _Label | Token | ast.Cite))
        return ast.Param(str(ch[0]), _label(ch), value, _of(ast.Cite, ch), span=self._s(meta))

    # kinds and types
    def default(self, meta: Any, ch: list[Any]) -> _Default:
        return _Default(ch[0])

    def bound(self, meta: Any, ch: list[Any]) -> ast.Bound:
        return ast.Bound(_OPS.get(str(ch[0]), str(ch[0])), ch[1], span=self._s(meta))

    def range(self, meta: Any, ch: list[Any]) -> ast.Range:
        return ast.Range(ch[0], ch[1], span=self._s(meta))

    def type_named(self, meta: Any, ch: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec(
            str(ch[0]),
            _all(ast.Bound, ch),
            _of(ast.Range, ch),
            _of(ast.SetLiteral, ch),
            span=self._s(meta),
        )

    def type_set(self, meta: Any, ch: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec(str(ch[0]), is_set=True, span=self._s(meta))

    def field(self, meta: Any, ch: list[Any]) -> ast.FieldDecl:
        optional = any(isinstance(c, Token) and c.type == "OPTIONAL" for c in ch)
        default = _of(_Default, ch)
        return ast.FieldDecl(
            str(ch[0]),
            _label(ch),
            optional,
            _of(ast.TypeSpec, ch),
            default.value if default else None,
            span=self._s(meta),
        )

    def require_expr(self, meta: Any, ch: list[Any]) -> ast.Require:
        return ast.Require(ch[0], _label(ch), span=self._s(meta))

    def require_one(self, meta: Any, ch: list[Token]) -> ast.RequireOne:
        return ast.RequireOne(tuple(_names(ch)), span=self._s(meta))

    def kind(self, meta: Any, ch: list[Any]) -> ast.Kind:
        names = _names(ch)
        return ast.Kind(
            names[0],
            _label(ch),
            names[1] if len(names) > 1 else None,
            _all(ast.FieldDecl, ch),
            _all((ast.Require, ast.RequireOne), ch),
            span=self._s(meta),
        )

    def facts(self, meta: Any, ch: list[Any]) -> ast.Kind:
        missing = [c for c in ch if isinstance(c, _Missing)]
        several = next((c for c in ch if isinstance(c, _Several)), None)
        rules = ast.FactRules(
            next((m.reason for m in missing if m.reason), None),
            tuple(v for m in missing for v in m.values),
            (several.how, several.name) if several else None,
            missing[0].span if missing else None,
            several.span if several else None,
            span=self._s(meta),
        )
        return ast.Kind(
            str(ch[0]),
            _label(ch),
            None,
            _all(ast.FieldDecl, ch),
            _all((ast.Require, ast.RequireOne), ch),
            rules,
            span=self._s(meta),
        )

    def missing(self, meta: Any, ch: list[Any]) -> _Missing:
        parts = [c for c in ch if isinstance(c, _Missing)]
        reason = next((p.reason for p in parts if p.reason), None)
        values = [p.value for p in parts if p.value is not None]
        return _Missing(reason, None, values, self._s(meta))

    def missing_reason(self, meta: Any, ch: list[Token]) -> _Missing:
        return _Missing(str(ch[0]), None)

    def missing_value(self, meta: Any, ch: list[Any]) -> _Missing:
        return _Missing(None, (str(ch[0]), ch[1]))

    def several_reason(self, meta: Any, ch: list[Token]) -> _Several:
        return _Several("reason", str(ch[0]), self._s(meta))

    def several_highest(self, meta: Any, ch: list[Token]) -> _Several:
        return _Several("highest", str(ch[0]), self._s(meta))

    def several_lowest(self, meta: Any, ch: list[Token]) -> _Several:
        return _Several("lowest", str(ch[0]), self._s(meta))

    # tables
    def hole(self, meta: Any, ch: list[Token]) -> ast.Hole:
        reason = str(ch[1]) if len(ch) > 1 else None
        return ast.Hole(reason, span=self._s(meta))

    def otherwise(self, meta: Any, ch: list[Token]) -> ast.Uncounted:
        return ast.Uncounted(str(ch[0]), span=self._s(meta))

    def bracket_open(self, meta: Any, ch: list[Any]) -> ast.Bracket:
        op, value = _OPS.get(str(ch[0]), str(ch[0])), ch[1].value
        low = value if op in (">", ">=", "==") else None
        high = value if op in ("<", "<=", "==") else None
        closed = op in ("<=", ">=", "==")
        return ast.Bracket(low, closed, high, closed, span=self._s(meta))

    def bracket_between(self, meta: Any, ch: list[Any]) -> ast.Bracket:
        return ast.Bracket(ch[1].value, ch[0] == "[", ch[2].value, ch[3] == "]", span=self._s(meta))

    def row(self, meta: Any, ch: list[Any]) -> ast.Row:
        return ast.Row(tuple(ch), span=self._s(meta))

    def table_key(self, meta: Any, ch: list[Token]) -> ast.TableKey:
        if len(ch) == 2:
            return ast.TableKey(str(ch[0]), str(ch[1]), span=self._s(meta))
        return ast.TableKey(None, str(ch[0]), span=self._s(meta))

    def table(self, meta: Any, ch: list[Any]) -> ast.Table:
        keys = _all(ast.TableKey, ch)
        value_type = str(ch[1 + len(keys)])
        return ast.Table(
            str(ch[0]),
            keys,
            value_type,
            _label(ch),
            _of(ast.Cite, ch),
            _all(ast.Row, ch),
            _of(ast.Uncounted, ch),
            span=self._s(meta),
        )

    # functions and rules
    def let(self, meta: Any, ch: list[Any]) -> ast.Let:
        return ast.Let(str(ch[0]), ch[1], _of(ast.Cite, ch[2:]), span=self._s(meta))

    def when(self, meta: Any, ch: list[Any]) -> ast.When:
        return ast.When(ch[0], ch[1], span=self._s(meta))

    def fn_param(self, meta: Any, ch: list[Any]) -> ast.FnParam:
        return ast.FnParam(str(ch[0]), ch[1], span=self._s(meta))

    def return_(self, meta: Any, ch: list[Any]) -> ast.Expr:
        result: ast.Expr = ch[0]
        return result

    amount = return_

    def rule_category(self, meta: Any, ch: list[Token]) -> Token:
        return ch[0]

    def function(self, meta: Any, ch: list[Any]) -> ast.Function:
        return ast.Function(
            str(ch[0]),
            _all(ast.FnParam, ch),
            _of(ast.TypeSpec, ch),
            _label(ch),
            _of(ast.Cite, ch),
            _all((ast.Let, ast.When), ch),
            ch[-1],
            span=self._s(meta),
        )

    def rule(self, meta: Any, ch: list[Any]) -> ast.Rule:
        names = _names(ch)
        credit = ch.pop() if isinstance(ch[-1], ast.Credit) else None
        return ast.Rule(
            names[0],
            tuple(names[1:-1]),
            _label(ch),
            names[-1],
            _of(ast.Cite, ch),
            _all((ast.Let, ast.When), ch),
            ch[-1],
            credit,
            span=self._s(meta),
        )

    def credit_parts(self, meta: Any, ch: list[ast.CreditPart]) -> ast.Credit:
        return ast.Credit(tuple(ch), None, span=self._s(meta))

    def credit_each(self, meta: Any, ch: list[Any]) -> ast.Credit:
        return ast.Credit((), (ch[0], ch[1]), span=self._s(meta))

    def credit_part(self, meta: Any, ch: list[Any]) -> ast.CreditPart:
        return ast.CreditPart(ch[0], ch[1], span=self._s(meta))

    def credit_rest(self, meta: Any, ch: list[Any]) -> ast.CreditPart:
        return ast.CreditPart(None, ch[0], span=self._s(meta))

    # summaries
    def label_entry(self, meta: Any, ch: list[Token]) -> tuple[str, str]:
        return (str(ch[0]), _ESCAPE.sub(r"\1", ch[1][1:-1]))

    def labels(self, meta: Any, ch: list[tuple[str, str]]) -> ast.Labels:
        return ast.Labels(tuple(ch), span=self._s(meta))

    def show(self, meta: Any, ch: list[Any]) -> ast.Show:
        value = ch[-1] if len(ch) > 1 and not isinstance(ch[-1], _Label) else None
        return ast.Show(str(ch[0]), _label(ch), value, span=self._s(meta))

    def named_requirement(self, meta: Any, ch: list[Any]) -> ast.Requirement:
        return ast.Requirement(str(ch[0]), _label(ch), ch[-1], span=self._s(meta))

    def reasoned_requirement(self, meta: Any, ch: list[Any]) -> ast.Requirement:
        return ast.Requirement(str(ch[0]), _label(ch), ch[-2], str(ch[-1]), span=self._s(meta))

    def single_requirement(self, meta: Any, ch: list[Any]) -> ast.Requirement:
        return ast.Requirement(None, None, ch[0], span=self._s(meta))

    def summary(self, meta: Any, ch: list[Any]) -> ast.Summary:
        body = _all((ast.Let, ast.Show, ast.Requirement), ch)
        return ast.Summary(
            tuple(_names(ch)), _label(ch), _of(ast.Cite, ch), body, span=self._s(meta)
        )

    def window(self, meta: Any, ch: list[Any]) -> ast.Window:
        years = _of(_Years, ch) or _Years(None, None)
        body = _all((ast.Let, ast.Show, ast.Requirement), ch)
        return ast.Window(
            _ESCAPE.sub(r"\1", ch[0][1:-1]),
            str(ch[1]),
            years.first,
            years.last,
            _label(ch),
            _of(ast.Cite, ch),
            body,
            _of(ast.Anchor, ch),
            span=self._s(meta),
        )

    def anchor_before(self, meta: Any, ch: list[Token]) -> ast.Anchor:
        return ast.Anchor(self._year(ch[0]), str(ch[1]), False, span=self._s(meta))

    def anchor_through(self, meta: Any, ch: list[Token]) -> ast.Anchor:
        return ast.Anchor(self._year(ch[0]), str(ch[1]), True, span=self._s(meta))

    def anchor_span(self, meta: Any, ch: list[Token]) -> ast.Anchor:
        kind, first, other, last = map(str, ch)
        fields = (first, last) if other == kind else (first, f"{other}.{last}")
        return ast.Anchor(0, kind, True, fields, span=self._s(meta))

    # changes to a base policy
    def override(self, meta: Any, ch: list[Any]) -> ast.Override:
        return ast.Override(ch[0], span=self._s(meta))

    def table_override(self, meta: Any, ch: list[Any]) -> ast.TableChange:
        rows, cite = _all(ast.Row, ch), _of(ast.Cite, ch)
        return ast.TableChange(str(ch[0]), rows, False, cite, span=self._s(meta))

    def table_extension(self, meta: Any, ch: list[Any]) -> ast.TableChange:
        rows, cite = _all(ast.Row, ch), _of(ast.Cite, ch)
        return ast.TableChange(str(ch[0]), rows, True, cite, span=self._s(meta))

    def cell_override(self, meta: Any, ch: list[Any]) -> ast.CellOverride:
        cite = _of(ast.Cite, ch)
        cells = tuple(c for c in ch[1:] if not isinstance(c, ast.Cite))
        return ast.CellOverride(str(ch[0]), cells[:-1], cells[-1], cite, span=self._s(meta))

    def row_split(self, meta: Any, ch: list[Any]) -> ast.RowSplit:
        rows, cite = _all(ast.Row, ch), _of(ast.Cite, ch)
        return ast.RowSplit(str(ch[0]), ch[1], rows, cite, span=self._s(meta))

    def enum_extension(self, meta: Any, ch: list[Any]) -> ast.EnumExtension:
        return ast.EnumExtension(str(ch[0]), _all(ast.Member, ch), span=self._s(meta))

    def kind_extension(self, meta: Any, ch: list[Any]) -> ast.KindExtension:
        return ast.KindExtension(
            str(ch[0]),
            _all(ast.FieldDecl, ch),
            _all((ast.Require, ast.RequireOne), ch),
            span=self._s(meta),
        )

    # expressions
    def number(self, meta: Any, ch: list[Token]) -> ast.Number:
        return ast.Number(_number(ch[0]), span=self._s(meta))

    def negative_number(self, meta: Any, ch: list[Token]) -> ast.Number:
        return ast.Number(-_number(ch[1]), span=self._s(meta))

    def text(self, meta: Any, ch: list[Token]) -> ast.Text:
        return ast.Text(_ESCAPE.sub(r"\1", ch[0][1:-1]), span=self._s(meta))

    def true(self, meta: Any, ch: list[Token]) -> ast.Bool:
        return ast.Bool(True, span=self._s(meta))

    def false(self, meta: Any, ch: list[Token]) -> ast.Bool:
        return ast.Bool(False, span=self._s(meta))

    def name(self, meta: Any, ch: list[Token]) -> ast.Name:
        return ast.Name(str(ch[0]), span=self._s(meta))

    def qualified(self, meta: Any, ch: list[Token]) -> ast.Qualified:
        return ast.Qualified(str(ch[0]), str(ch[1]), span=self._s(meta))

    def call(self, meta: Any, ch: list[Any]) -> ast.Call:
        return ast.Call(str(ch[0]), tuple(ch[1:]), span=self._s(meta))

    def call_where(self, meta: Any, ch: list[Any]) -> ast.Call:
        return ast.Call(str(ch[0]), (self._name(ch[1]),), ch[2], span=self._s(meta))

    def call_by(self, meta: Any, ch: list[Any]) -> ast.Call:
        function, over, *middle, cap = ch
        where = next((c for c in middle if not isinstance(c, Token)), None)
        by = next((self._name(c) for c in middle if isinstance(c, Token)), None)
        return ast.Call(str(function), (self._name(over),), where, by, cap, span=self._s(meta))

    def _name(self, token: Token) -> ast.Name:
        line, column = token.line or 0, token.column or 0
        at = ast.Span(self.file, line, column, token.end_line or line, token.end_column or column)
        return ast.Name(str(token), span=at)

    def lookup(self, meta: Any, ch: list[Any]) -> ast.Lookup:
        return ast.Lookup(str(ch[0]), tuple(ch[1:]), span=self._s(meta))

    def negate(self, meta: Any, ch: list[Any]) -> ast.Unary:
        return ast.Unary("-", ch[1], span=self._s(meta))

    def not_op(self, meta: Any, ch: list[Any]) -> ast.Unary:
        return ast.Unary("not", ch[0], span=self._s(meta))

    def binary(self, meta: Any, ch: list[Any]) -> ast.Binary:
        op = str(ch[1])
        return ast.Binary(_OPS.get(op, op), ch[0], ch[2], span=self._s(meta))

    def and_op(self, meta: Any, ch: list[Any]) -> ast.Binary:
        return ast.Binary("and", ch[0], ch[1], span=self._s(meta))

    def or_op(self, meta: Any, ch: list[Any]) -> ast.Binary:
        return ast.Binary("or", ch[0], ch[1], span=self._s(meta))

    def compare(self, meta: Any, ch: list[Any]) -> ast.Compare:
        op = str(ch[1])
        return ast.Compare(_OPS.get(op, op), ch[0], ch[2], span=self._s(meta))

    def in_op(self, meta: Any, ch: list[Any]) -> ast.Membership:
        return ast.Membership(ch[0], ch[1], False, span=self._s(meta))

    def not_in_op(self, meta: Any, ch: list[Any]) -> ast.Membership:
        return ast.Membership(ch[0], ch[1], True, span=self._s(meta))

    def if_expr(self, meta: Any, ch: list[Any]) -> ast.If:
        return ast.If(ch[0], ch[1], ch[2], span=self._s(meta))

    def uncounted(self, meta: Any, ch: list[Token]) -> ast.Uncounted:
        return ast.Uncounted(str(ch[0]), span=self._s(meta))

    def has(self, meta: Any, ch: list[Token]) -> ast.Has:
        return ast.Has(str(ch[0]), span=self._s(meta))

    def set_literal(self, meta: Any, ch: list[Token]) -> ast.SetLiteral:
        return ast.SetLiteral(tuple(str(c) for c in ch), span=self._s(meta))
