"""Explanations: the same steps as the evaluation, in words."""

import json
from pathlib import Path

import pytest

import engine
from engine.tools.cases import read_cases
from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = engine.load()
RECORDS = [r for p in sorted((ROOT / "tests" / "golden").glob("*.yaml")) for c in read_cases(p)
           for r in c.records]  # fmt: skip


def test_every_explanation_ends_with_the_evaluated_amount() -> None:
    explained = 0
    for position, record in enumerate(RECORDS, 1):
        explanation = POLICY.explain(record, position)
        (result,) = POLICY.evaluate_numbered([(position, record)])
        if "error" in result:
            assert explanation["error"] == result["error"]
            continue
        last = explanation["steps"][-1]
        assert last["value"] == result["trace"][-1]["value"]
        if result["counted"]:
            assert last["value"] == result["amount"]
        assert len(explanation["steps"]) == len(result["trace"])
        explained += 1
    assert explained > 400


def test_a_paper_in_words() -> None:
    record = {"id": "r1", "year": 2021, "kind": "论文", "venue": "全国统一刊号", "words": 3000,
              "authors": 4, "position": 4}  # fmt: skip
    text = [s["text"] for s in POLICY.explain(record)["steps"]]
    assert text == [
        "查「报刊论文的级别」：全国统一刊号 → 国家级",
        "查「论文著作折算」：国家级、论文 → 15",
        "base = total // authors = 3",
        "remainder = total % authors = 3",
        "合著分配：share(15, 4, 4) = 3",
        "结果：3 学时（share(total, authors, position)）",
    ]


def test_what_would_have_made_it_count() -> None:
    short = POLICY.explain({"year": 2021, "kind": "paper", "venue": "cn_serial", "words": 800,
                            "authors": 1, "position": 1})  # fmt: skip
    assert short["why_not"] == (
        "不计：论文不足 1000 字。若 words >= min_words（现在 words = 800，min_words = 1000），"
        "则可计入。"
    )
    failed = POLICY.explain({"year": 2021, "kind": "degree", "passed": False})
    assert failed["why_not"] == "不计：考试或考核未合格。若 passed（现在 passed = 否），则可计入。"
    lecture = POLICY.explain({"year": 2021, "kind": "lecture", "credits": 2})
    assert lecture["why_not"] == "不计：本年度制度下不计。在学时制下，此类记录不计入。"


def test_person_year_shows_the_cap_and_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        {"person": "p7", "year": 2021, "kind": "public_course", "hours": 30},
        {"person": "p7", "year": 2021, "kind": "professional_course", "hours": 29},
        {"person": "p7", "year": 2021, "kind": "award", "level": "national", "tier": "first",
         "rank": 1},
    ]  # fmt: skip
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    path = tmp_path / "p7.jsonl"
    path.write_text(lines + "\n", encoding="utf-8")
    assert main(["explain", str(path), "--report"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "人员 p7，2021（学时制）"
    assert "     已达上限 converted_professional_cap（折算可抵专业科目至多） = 30" in out
    assert out[-2] == (
        "  专业 还差 1 学时；已达上限 converted_professional_cap（折算可抵专业科目至多） = 30，"
        "不能再补"
    )
    assert out[-1] == "  不合格"


def test_cli_explain_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    lines = '{"year": 2021, "kind": "degree", "passed": true}\n{"year": 2022, "kind": "degree"}\n'
    path.write_text(lines, encoding="utf-8")
    assert main(["explain", str(path), "--format", "json"]) == 1
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["amount"] == 20 and first["steps"][-1]["cite"] == "附件一(四)"
    assert second["error"]["code"] == "no_policy_in_force"


def test_a_changed_cell_is_explained_with_its_own_cite() -> None:
    amendment = engine.load(ROOT / "policies" / "examples" / "binzhou-2023-amendment")
    record = {"kind": "overseas", "year": 2023, "months": 7}
    explanation = amendment.explain(record)
    assert [(s["text"], s["cite"]) for s in explanation["steps"]] == [
        ("查「考察留学学时」：7 → 40", "2023 通知 附件一(一)"),
        ("结果：40 学时（abroad_hours[months]）", "附件一(一)"),
    ]
    text = amendment.explainer().text(explanation)
    assert "查「考察留学学时」：7 → 40  [2023 通知 附件一(一)]" in text
