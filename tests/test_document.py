"""`rules doc`: the policy as a document, and the committed one kept current."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

import engine
from engine.tools.cli import main
from engine.views.document import Document, html_page, markdown

ROOT = Path(__file__).resolve().parent.parent
POLICY = engine.load(ROOT / "policies" / "binzhou")


@pytest.mark.parametrize(
    ("folder", "document"),
    [
        ("binzhou", "policy-binzhou.md"),
        ("examples/binzhou-2022-draft", "policy-binzhou-2022-draft.md"),
        ("examples/binzhou-2023-amendment", "policy-binzhou-2023-amendment.md"),
        ("examples/xuzhou", "policy-xuzhou.md"),
        ("examples/taizhou", "policy-taizhou.md"),
    ],
)
def test_committed_policy_documents_are_current(folder: str, document: str) -> None:
    """docs/policy-*.md are generated; regenerate one with
    `rules doc policies/FOLDER -o docs/DOCUMENT` after changing the policy."""
    committed = (ROOT / "docs" / document).read_text(encoding="utf-8")
    policy = POLICY if folder == "binzhou" else engine.load(ROOT / "policies" / folder)
    assert committed == markdown(Document(policy).blocks())


def test_tables_are_grids_as_in_the_notice() -> None:
    text = markdown(Document(POLICY).blocks())
    assert "| 项目 | 一等奖 | 二等奖 | 三等奖 | 鉴定成果 |\n|---|---|---|---|---|\n" in text
    assert "| 县区级 | 15 | 13 | 11 | 8 |" in text
    assert "| 国际级 | 25 | — | — | — | 18 | 12 | 8 |" in text
    assert "| [6, 12] | 40 |" in text and "| < 1 | 15 |" in text


def test_rules_in_words_with_cite_and_reading() -> None:
    text = markdown(Document(POLICY).blocks())
    assert "### `paper` 报刊论文（各制度）" in text
    assert "类别：折算（`converted`）。依据：hours：附件一(三)1；credits：附件二(六)1" in text
    assert "- 若 `words < min_words`，则不计（论文不足 1000 字）" in text
    assert "> Reading A2：专利同样适用鉴定成果的位次规则" in text
    assert (
        "| `min_words` | 论文最低字数 | `1000` | hours：附件一(三)；credits：附件二(六) |" in text
    )
    assert "- 要求：`total >= window_2017_2019_required`" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("href", "src")]


def test_html_is_one_self_contained_page() -> None:
    page = html_page(Document(POLICY).blocks(), "binzhou")
    parser = _Tags()
    parser.feed(page)
    assert parser.links == []  # no stylesheet, script, font or image from elsewhere
    assert parser.tags.count("table") > 20 and "style" in parser.tags
    assert "<td>县区级</td><td>15</td>" in page


@pytest.mark.parametrize("html", [False, True])
def test_cli_writes_the_document(tmp_path: Path, html: bool) -> None:
    out = tmp_path / ("policy.html" if html else "policy.md")
    assert (
        main(
            ["doc", str(ROOT / "policies" / "binzhou"), "-o", str(out)]
            + (["--html"] if html else [])
        )
        == 0
    )
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>" if html else "# 滨州市 2021 年度专业技术人员继续教育")
