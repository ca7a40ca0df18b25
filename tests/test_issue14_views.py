"""The views of the language's features for other notices: a facts kind, a requirement
failing for a reason, credit to other years — in the table view, explanations, the
document and the comparison of two policies."""

from pathlib import Path

import engine
from engine.running.report import Reporter
from engine.tools.cli import main
from engine.views.diff import structure
from engine.views.document import Document, markdown

LANGUAGE = Path(__file__).parent / "language"
FACTS = engine.load(LANGUAGE / "facts.rules")
CREDIT = engine.load(LANGUAGE / "rule-credit.rules")


def test_the_table_view_gives_a_failed_fact_its_reason_in_words(tmp_path, capsys) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text(
        '{"person": "p", "year": 2021, "kind": "course", "hours": 50}\n', encoding="utf-8"
    )
    assert main(["report", str(records), "--policy", str(LANGUAGE / "facts.rules"),
                 "--format", "table"]) == 0  # fmt: skip
    header, _, row = capsys.readouterr().out.splitlines()[:3]
    assert "人员信息" in header and "未报送职称信息" in row and row.rstrip().endswith("✗")


def test_a_fact_record_is_explained_as_what_it_states() -> None:
    explained = FACTS.explain({"kind": "staff", "year": 2021, "title": "senior"})
    assert explained["fact"] == {"title": "senior"} and "amount" not in explained
    text = FACTS.explainer().text(explained)
    assert "人员信息：职称级别：高级（记录事实，不计学时）" in text


def test_a_person_year_without_its_fact_is_explained_with_the_reason() -> None:
    traces: list = []
    record = {"person": "p", "year": 2021, "kind": "course", "hours": 50}
    rows = list(Reporter(FACTS).rows(enumerate([record], 1), traces))
    row, trace = traces[0]
    lines = FACTS.explainer().person_year(row, trace)
    assert rows[0]["reasons"] == {"staff": "no_title"}
    assert "  人员信息：未满足（未报送职称信息）" in lines and lines[-1] == "  不合格"


def test_credit_to_a_year_no_policy_covers_is_explained_as_dropped() -> None:
    record = {"kind": "project", "year": 2022, "first": 2022, "last": 2024}
    text = CREDIT.explainer().text(CREDIT.explain(record))
    parts = (
        "2022 年度 40 学时，2023 年度 40 学时，2024 年度 40 学时（该年度没有适用的政策，不计入）"
    )
    assert "共 120 学时，分记到各年度：" + parts in text


def test_the_document_says_what_a_missing_or_doubled_fact_means() -> None:
    text = markdown(Document(FACTS).blocks())
    assert "### `staff` 人员信息（事实记录：不计学时，供年度汇总读取）" in text
    assert "- 本年度没有此记录：不合格（未报送职称信息），`title` 按 `junior` 计算" in text
    assert "- 本年度有多条且不一致：取 `title` 最高的一条" in text


def test_the_comparison_shows_a_changed_choice_between_facts(tmp_path) -> None:
    changed = tmp_path / "facts.rules"
    source = (LANGUAGE / "facts.rules").read_text(encoding="utf-8")
    changed.write_text(source.replace("several: highest title", "several: lowest title"),
                       encoding="utf-8")  # fmt: skip
    kinds = structure(FACTS, engine.load(changed))["kinds"]
    assert kinds == [{"what": "kind", "name": "staff", "label": "人员信息", "change": "changed",
                      "fields": [{"name": "several", "change": "changed",
                                  "old": "highest title", "new": "lowest title"}]}]  # fmt: skip


def test_the_impact_says_which_requirement_changed_and_why(tmp_path) -> None:
    from engine.views.diff import diff

    changed = tmp_path / "facts.rules"
    source = (LANGUAGE / "facts.rules").read_text(encoding="utf-8")
    changed.write_text(source.replace("without: not qualified no_title, title = junior",
                                      "without: title = junior"), encoding="utf-8")  # fmt: skip
    records = [{"person": "p", "year": 2021, "kind": "course", "hours": 50}]
    [person] = diff(FACTS, engine.load(changed), records)["impact"]["people"]
    assert person["why"] == "人员信息：未满足（未报送职称信息） → 满足"
