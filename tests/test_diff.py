"""`rules diff`: the structure of two policies and the impact on records."""

import json
from pathlib import Path

import openpyxl
import pytest

import engine
from engine.tools.cli import main
from engine.views.diff import diff
from engine.views.diffout import text

ROOT = Path(__file__).resolve().parent.parent
BINZHOU = ROOT / "policies" / "binzhou"
DRAFT = ROOT / "policies" / "examples" / "binzhou-2022-draft"
AMENDMENT = ROOT / "policies" / "examples" / "binzhou-2023-amendment"
SAVED = ROOT / "docs" / "examples" / "diff-binzhou-2022-draft.txt"
RECORDS = ROOT / "examples" / "unit-2021.jsonl"


@pytest.fixture(scope="module")
def policies() -> tuple[engine.Policy, engine.Policy]:
    return engine.load(BINZHOU), engine.load(DRAFT)


def test_the_structure_of_the_2022_draft(policies: tuple[engine.Policy, engine.Policy]) -> None:
    structure = diff(*policies)["structure"]
    assert [(c["name"], c["change"], c.get("old"), c.get("new")) for c in structure["params"]] == [
        ("converted_public_cap", "changed", "5", "10"),
        ("converted_professional_cap", "changed", "30", "40"),
        ("micro_course_hours", "added", None, "2"),
    ]
    [table] = structure["tables"]
    assert table["name"] == "achievements"
    assert table["cells"] == [
        {"row": "provincial", "column": "first", "old": "35", "new": "38"},
        {"row": "national", "column": "first", "old": "40", "new": "45"},
    ]
    assert table["grid"]["head"] == ["项目", "一等奖", "二等奖", "三等奖", "鉴定成果"]
    assert table["grid"]["rows"][2] == ["省部级", "35 → 38", "30", "25", "15"]
    assert [(c["name"], c["change"]) for c in structure["rules"]] == [
        ("micro_course in hours", "added")
    ]
    assert [(c["name"], c["change"]) for c in structure["functions"]] == [("share", "changed")]
    fields = [{"name": "certificates", "new": "int >= 1"}]
    assert structure["kinds"] == [{"what": "kind", "name": "micro_course", "label": "网络微课",
                                   "change": "added", "fields": fields}]  # fmt: skip
    assert structure["regimes"][0] == {"what": "policy", "name": "years", "change": "changed",
                                       "old": "..2021", "new": "2022.."}  # fmt: skip
    assert structure["enums"] == [] and structure["summaries"] == []


def test_the_structure_of_the_2023_amendment_after_a_gap() -> None:
    structure = diff(engine.load(BINZHOU), engine.load(AMENDMENT))["structure"]
    assert structure["regimes"][:2] == [
        {"what": "policy", "name": "years", "change": "changed", "old": "..2021", "new": "2023.."},
        {"what": "policy", "name": "gap", "label": "两套政策都不适用的年度", "change": "added",
         "new": "2022"},
    ]  # fmt: skip
    achievements, abroad = structure["tables"]
    assert achievements["cells"] == [
        {"row": "provincial", "column": "first", "old": "35", "new": "38",
         "cite": "2023 通知 附件一(二)"},
        {"row": "national", "column": "second", "old": "35", "new": "38",
         "cite": "2023 通知 附件一(二)2"},
        {"row": "national", "column": "third", "old": "30", "new": "33",
         "cite": "2023 通知 附件一(二)2"},
    ]  # fmt: skip
    assert abroad["cells"] == [
        {"row": "[4, 6)", "column": None, "old": "35", "new": "35", "split": ">= 4",
         "cite": "2023 通知 附件一(一)"},
        {"row": ">= 6", "column": None, "old": "35", "new": "40", "split": ">= 4",
         "cite": "2023 通知 附件一(一)"},
    ]  # fmt: skip
    assert abroad["grid"]["rows"][4:] == [["[4, 6)（拆自 >= 4）", "35"],
                                          [">= 6（拆自 >= 4）", "35 → 40"]]  # fmt: skip
    lines = text(diff(engine.load(BINZHOU), engine.load(AMENDMENT))).splitlines()
    assert "  + policy gap（两套政策都不适用的年度） = 2022" in lines
    assert "      [provincial, first] 依据 2023 通知 附件一(二)" in lines
    assert "      [>= 6] 依据 2023 通知 附件一(一)" in lines


def test_a_policy_against_itself(policies: tuple[engine.Policy, engine.Policy]) -> None:
    same = diff(policies[0], policies[0], [{"kind": "lecture", "year": 2019, "credits": 2}])
    assert not any(same["structure"].values())
    assert same["impact"]["changed"] == [] and same["impact"]["people"] == []
    assert "结构：没有改动" in text(same)


def test_the_impact_on_records(policies: tuple[engine.Policy, engine.Policy]) -> None:
    paper = {"kind": "paper", "venue": "cn_serial", "words": 3000, "authors": 4}
    records = [
        {**paper, "id": "first", "person": "a", "year": 2021, "position": 1},
        {**paper, "id": "fourth", "person": "a", "year": 2021, "position": 4},
        {"id": "award", "person": "a", "year": 2021, "kind": "award", "level": "national",
         "tier": "first", "rank": 1},
        {"id": "pub", "person": "b", "year": 2021, "kind": "public_course", "hours": 25},
        {"id": "pro", "person": "b", "year": 2021, "kind": "professional_course", "hours": 30},
        {"id": "conv", "person": "b", "year": 2021, "kind": "degree", "passed": True},
        {"id": "conv2", "person": "b", "year": 2021, "kind": "self_study_exam", "subjects": 3},
    ]  # fmt: skip
    impact = diff(*policies, records, shift=1)["impact"]
    assert [(c["id"], c["old"]["amount"], c["new"]["amount"], c["delta"])
            for c in impact["changed"]] == [("first", 4, 8, 4), ("fourth", 3, 2, -1),
                                            ("award", 40, 45, 5)]  # fmt: skip
    # b: converted 35 fills the 5 public hours missing and 30 professional hours, under
    # either policy (public 30, professional 60, total 90); a has converted hours only
    assert impact["people"] == []
    kinds = {k["kind"]: (k["old"], k["new"], k["delta"]) for k in impact["kinds"]}
    assert kinds["paper"] == (7, 10, 3)
    assert kinds["award"] == (40, 45, 5)
    assert impact["shift"] == 1 and impact["records"] == 7


def test_a_person_who_qualifies_under_the_new_caps(policies) -> None:
    records = [
        {"person": "c", "year": 2021, "kind": "public_course", "hours": 20},
        {"person": "c", "year": 2021, "kind": "professional_course", "hours": 50},
        {"person": "c", "year": 2021, "kind": "degree", "passed": True},
        {"person": "c", "year": 2021, "kind": "self_study_exam", "subjects": 4},
    ]
    people = diff(*policies, records, shift=1)["impact"]["people"]
    assert people == [{"person": "c", "year": 2021, "old_qualified": False,
                       "new_qualified": True, "old_total": 105, "new_total": 110,
                       "old_shortfall": {"public": 5, "professional": 0, "total": 0},
                       "new_shortfall": {"public": 0, "professional": 0, "total": 0},
                       "why": "公需：缺 5 → 达到"}]  # fmt: skip


def test_the_saved_comparison_in_the_docs_is_current(capsys) -> None:
    """docs/examples/diff-binzhou-2022-draft.txt: regenerate with the command it names."""
    command = ["diff", "policies/binzhou", "policies/examples/binzhou-2022-draft",
               "examples/unit-2021.jsonl", "--shift-years", "1"]  # fmt: skip
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        assert main(command) == 0
    finally:
        os.chdir(here)
    out = capsys.readouterr().out
    saved = SAVED.read_text(encoding="utf-8")
    assert saved.startswith("$ rules " + " ".join(command) + "\n")
    assert saved.split("\n", 1)[1] == out


def test_json_and_workbook_outputs(tmp_path: Path, capsys) -> None:
    book = tmp_path / "impact.xlsx"
    status = main(["diff", str(BINZHOU), str(DRAFT), str(RECORDS), "--shift-years", "1",
                   "--format", "json", "--output", str(book)])  # fmt: skip
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert result["new"]["name"] == "binzhou_2022_draft"
    assert len(result["impact"]["changed"]) == 8
    sheets = openpyxl.load_workbook(book)
    assert sheets.sheetnames == ["结构", "表格", "记录", "人员", "种类"]
    grid = [[c.value for c in row] for row in sheets["表格"].iter_rows()]
    assert grid[0] == ["achievements（成果折算）", None, None, None, None]
    assert grid[4] == ["省部级", "35 → 38", 30, 25, 15]
    records = [[c.value for c in row] for row in sheets["记录"].iter_rows()]
    assert records[0][:8] == ["行", "编号", "人员", "年度", "种类", "原数额", "新数额", "增减"]
    assert len(records) == 1 + 8


def test_diff_refuses_a_set_and_a_wrong_output(tmp_path: Path, capsys) -> None:
    set_file = ROOT / "policies" / "examples" / "binzhou-2021-2022.yaml"
    assert main(["diff", str(set_file), str(DRAFT)]) == 2
    assert "compares two policies, not sets" in capsys.readouterr().err
    assert main(["diff", str(BINZHOU), str(DRAFT), "-o", str(tmp_path / "x.csv")]) == 2
    assert "writes an .xlsx file" in capsys.readouterr().err
