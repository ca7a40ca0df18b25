"""Parsing: the syntax tree, spans kept out of equality, and printing back."""

from decimal import Decimal
from pathlib import Path

import pytest

from engine.syntax import ast
from engine.syntax.parse import PolicySyntaxError, parse
from engine.syntax.printer import expr_text
from engine.syntax.resources import bundled_policy_path
from engine.syntax.visit import walk

RULE = """
rule paper "报刊论文" {
    category converted
    cite hours "附件一(三)1", credits "附件二(六)1"
    when words < min_words then not counted too_short
    let level = journal_level[venue]
    amount share(publications[level, paper], authors, position)
}
"""


def test_rule_tree() -> None:
    (rule,) = parse(RULE, "t.rules").declarations
    assert rule == ast.Rule(
        kind="paper",
        regimes=(),
        label="报刊论文",
        category="converted",
        cite=ast.Cite((("hours", "附件一(三)1"), ("credits", "附件二(六)1")), span=None),
        body=(
            ast.When(
                ast.Compare(
                    "<", ast.Name("words", span=None), ast.Name("min_words", span=None), span=None
                ),
                ast.Uncounted("too_short", span=None),
                span=None,
            ),
            ast.Let(
                "level",
                ast.Lookup("journal_level", (ast.Name("venue", span=None),), span=None),
                None,
                span=None,
            ),
        ),
        result=ast.Call(
            "share",
            (
                ast.Lookup(
                    "publications",
                    (ast.Name("level", span=None), ast.Name("paper", span=None)),
                    span=None,
                ),
                ast.Name("authors", span=None),
                ast.Name("position", span=None),
            ),
            span=None,
        ),
        span=None,
    )


def test_spans_point_at_the_source() -> None:
    (rule,) = parse(RULE, "t.rules").declarations
    let = rule.body[1]
    assert (let.span.file, let.span.line, let.span.column) == ("t.rules", 6, 5)
    assert (let.value.span.line, let.value.span.column) == (6, 17)


def test_layout_does_not_change_the_tree() -> None:
    compact = " ".join(line.strip() for line in RULE.splitlines())
    crlf = "\ufeff" + RULE.replace("\n", "\r\n").replace("    ", "\t")
    commented = RULE.replace("\n", "  # 注释\n")
    first = parse(RULE, "a.rules")
    for other in (compact, crlf, commented):
        assert parse(other, "b.rules").declarations == first.declarations


def test_unicode_names_and_decimal_numbers() -> None:
    source = 'param 最低字数 "论文最低字数" = 1000.50\n'
    (param,) = parse(source, "t.rules").declarations
    assert param.name == "最低字数" and param.value == ast.Number(Decimal("1000.50"), span=None)


@pytest.mark.parametrize(
    "text",
    [
        "a + b * c",
        "(a + b) * c",
        "a - (b - c)",
        "a // b % c",
        "-a * b",
        "not a and (b or c)",
        "if has tier then lower(tier) else level.national",
        "x not in {a, b}",
        "min(a, 3) <= t[a, b]",
        "(if a then 1 else 2) + 3",
    ],
)
def test_printing_round_trips(text: str) -> None:
    source = f'rule k {{ category c cite "x" amount {text} }}'
    (rule,) = parse(source, "t.rules").declarations
    assert expr_text(rule.result) == text
    reparsed = parse(f'rule k {{ category c cite "x" amount {expr_text(rule.result)} }}', "u")
    assert reparsed.declarations[0].result == rule.result


def test_bundled_policy_parses_and_every_node_has_a_span() -> None:
    for path in sorted(Path(bundled_policy_path()).glob("*.rules")):
        module = parse(path.read_text(encoding="utf-8"), str(path))
        for decl in module.declarations:
            for node in walk(decl):
                assert node.span.file == str(path) and node.span.line > 0, node


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [
        (
            "kind k { n: int }\nrule k { category c amount n + }",
            "syntax",
            'expected `(`, `-`, `{`, a name, a number or a quoted text like "标签", found `}`',
        ),
        (
            "kind k { n：int }",
            "full-width-punctuation",
            "full-width `：` is not part of the language",
        ),
        ("kind k { n: int", "unexpected-end", None),
        ("table t(level) -> int { | a | b |\n| x | 1 }", "syntax", None),
    ],
)
def test_syntax_errors_in_words(source: str, code: str, message: str | None) -> None:
    with pytest.raises(PolicySyntaxError) as caught:
        parse(source, "t.rules")
    assert caught.value.diagnostic.code == code
    if message:
        assert caught.value.diagnostic.message == message


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ('rule k { category c cite "x" when venue = none then 0 amount 1 }',
         "to compare, write `==`; a single `=` gives a name its value"),
        ('rule k { category c cite "x" when words < 1000 not counted too_short amount 1 }',
         "`when CONDITION then RESULT`: the `then` is missing"),
        ('rule k { category c cite "x" amount: share(a, b, c) }',
         "no `:` after `amount` or `return`"),
        ("kind paper { words int >= 0 }", "a field is `name: type`, e.g. `words: int >= 0`"),
        ("table t(level) -> int {\n | 级别 | 学时 |\n | county | 1 \n}",
         "a table row starts and ends with `|`"),
    ],
)  # fmt: skip
def test_common_mistakes_get_a_hint(source: str, hint: str) -> None:
    with pytest.raises(PolicySyntaxError) as caught:
        parse(source, "t.rules")
    assert caught.value.diagnostic.code == "syntax"
    assert caught.value.diagnostic.help == hint
