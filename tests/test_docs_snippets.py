"""Every `rules` block of the docs is written in the language: it parses as it stands."""

import re
from pathlib import Path

import pytest

from engine.syntax.parse import PolicySyntaxError, parse

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```rules\n(.*?)```", re.DOTALL)
SNIPPETS = [
    (doc, n, text)
    for doc in sorted(DOCS.glob("*.md"))
    for n, text in enumerate(BLOCK.findall(doc.read_text(encoding="utf-8")), 1)
]
STATEMENTS = re.compile(r"^\s*(let|show|requirement|when)\b")


@pytest.mark.parametrize("doc, n, text", SNIPPETS, ids=[f"{d.name}#{n}" for d, n, _ in SNIPPETS])
def test_a_snippet_parses(doc: Path, n: int, text: str) -> None:
    if all(STATEMENTS.match(line) or not line.strip() for line in text.splitlines()):
        text = "summary year in r {\n" + text + "}\n"  # statements of a summary body
    try:
        parse(text, f"{doc.name}#{n}")
    except PolicySyntaxError as error:
        pytest.fail(str(error), pytrace=False)


def test_the_docs_have_snippets() -> None:
    assert len(SNIPPETS) > 30
