"""The Chinese docs (`docs/*.zh.md`) stay in step with the English: the same code blocks
in the same order, the same headings by level, and (the diagnostics list) the same codes."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAIRS = ["language", "errors", "golden-cases"]
BLOCK = re.compile(r"^[ \t]*```[a-z]*\n.*?^[ \t]*```", re.DOTALL | re.MULTILINE)


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _levels(text: str) -> list[int]:
    outside = BLOCK.sub("", text)
    return [len(m.group(1)) for m in re.finditer(r"^(#+) ", outside, re.MULTILINE)]


@pytest.mark.parametrize("name", PAIRS)
def test_the_chinese_page_has_the_english_pages_code_and_headings(name: str) -> None:
    english, chinese = _read(f"{name}.md"), _read(f"{name}.zh.md")
    assert BLOCK.findall(chinese) == BLOCK.findall(english)
    assert _levels(chinese) == _levels(english)
    assert f"本页是 [`{name}.md`]({name}.md) 的中文版" in chinese


def test_the_chinese_diagnostics_list_has_every_code() -> None:
    def codes(text: str) -> list[str]:
        return re.findall(r"^\| `([a-z-]+)`", text, re.MULTILINE)

    assert codes(_read("errors.zh.md")) == codes(_read("errors.md"))


def test_the_officer_guide_links_the_chinese_docs() -> None:
    guide = _read("officer-guide.zh.md")
    for name in PAIRS:
        assert f"({name}.zh.md)" in guide
