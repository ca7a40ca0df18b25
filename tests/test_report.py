"""Reports: `Policy.report`, `rules report` and the files it reads and writes."""

import json
from pathlib import Path

import openpyxl
import pytest

import engine
from engine.io.progress import Progress
from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = engine.load()
EXAMPLE = ROOT / "examples" / "unit-2021.xlsx"


def test_rows_sorted_by_person_year_window_then_errors_in_input_order() -> None:
    records = [
        {"id": "e1", "person": "b", "year": 2021, "kind": "essay"},
        {"person": "b", "year": 2021, "kind": "public_course", "hours": 1},
        {"person": "a", "year": 2019, "kind": "public_course", "hours": 1},
        {"id": "e2", "year": 2020, "kind": "public_course", "hours": 1},
        {"person": "a", "year": 2017, "kind": "public_course", "hours": 1},
        {"person": "b", "year": 2020, "kind": "public_course", "hours": 1},
    ]
    rows = POLICY.report(records)
    assert [(r["scope"], r.get("person"), r.get("year") or r.get("window") or r.get("id"))
            for r in rows] == [
        ("year", "a", 2017), ("year", "a", 2019), ("window", "a", "2017-2019"),
        ("window", "a", "2018-2019"), ("year", "b", 2020), ("year", "b", 2021),
        ("error", None, "e1"), ("error", None, "e2"),
    ]  # fmt: skip
    assert rows[-1]["error"]["field"] == "person"


def test_report_does_not_depend_on_record_order() -> None:
    records = [json.loads(line) for line in (ROOT / "examples" / "unit-2021.jsonl").open()]
    valid = [r for r in records if r["year"] == 2021 and "error" not in POLICY.evaluate_many([r])
             .__next__()]  # fmt: skip
    assert POLICY.report(valid) == POLICY.report(list(reversed(valid)))


def test_report_of_the_example_sheet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(EXAMPLE), "--quiet"]) == 1  # the sheet has bad rows on purpose
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    years = [r for r in rows if r["scope"] == "year"]
    errors = [r for r in rows if r["scope"] == "error"]
    assert len(years) == 60 and [e["id"] for e in errors] == [9, 22, 35, 53, 66]
    assert [e["error"]["code"] for e in errors] == [
        "invalid_record", "invalid_record", "unknown_kind", "invalid_record", "no_policy_in_force"
    ]  # fmt: skip
    assert errors[1]["error"]["message"] == '`hours` must be a number >= 0; got "三十" (a text)'


def test_table_format_has_chinese_headings(capsys: pytest.CaptureFixture[str]) -> None:
    main(["report", str(EXAMPLE), "--format", "table", "--quiet"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:6] == ["人员", "年度", "制度", "公需学时", "专业学时", "折算学时"]
    assert out[0].split()[-4:] == ["公需缺口", "专业缺口", "总计缺口", "是否合格"]
    assert any(line.startswith("37160001  2021  hours") for line in out)


def test_xlsx_output_has_a_sheet_of_person_years_and_one_of_errors(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert main(["report", str(EXAMPLE), "--output", str(out), "--quiet"]) == 1
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["person-years", "errors"]
    years = list(book["person-years"].iter_rows(values_only=True))
    assert years[0][:4] == ("scope", "人员", "年度", "年度区间")
    assert len(years) == 61
    errors = list(book["errors"].iter_rows(values_only=True))
    assert errors[0][0] == "编号" and [e[0] for e in errors[1:]] == [9, 22, 35, 53, 66]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_csv_and_jsonl_outputs(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"results{suffix}"
    assert main(["eval", str(EXAMPLE), "-o", str(out), "-q"]) == 1
    text = out.read_text(encoding="utf-8-sig").splitlines()
    if suffix == ".csv":
        assert text[0].startswith("id,person,year,kind,regime,unit,category,amount,counted")
        assert len(text) == 1 + 215
    else:
        assert len(text) == 215 and json.loads(text[7])["error"]["field"] == "position"


def test_unknown_output_type_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["eval", str(EXAMPLE), "-o", str(tmp_path / "x.txt"), "-q"]) == 2


def test_csv_input_with_labels_gbk_and_empty_cells(tmp_path: Path, capsys) -> None:
    path = tmp_path / "batch.csv"
    text = ("人员,年度,类型,学时,天数,是否合格,未知列\n"
            "p1,2021,公需科目,30,,是,\n"
            "p1,2021,专业科目,,2,,\n"
            "\n"
            "p2,2021,学历教育,,,否,\n"
            "p3,2021,学历教育,,,是,abc\n")  # fmt: skip
    path.write_bytes(text.encode("gb18030"))
    assert main(["eval", str(path), "-q"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [2, 3, 5, 6]
    assert [r.get("amount") for r in rows[:3]] == [30, 10, 0]
    assert rows[2]["reason"] == "not_passed"
    assert rows[3]["error"]["field"] == "未知列"


def test_xlsx_sheet_choice(tmp_path: Path, capsys) -> None:
    assert main(["eval", str(EXAMPLE), "--sheet", "no such sheet", "-q"]) == 2
    assert "has no sheet `no such sheet`; it has: 继续教育学时" in capsys.readouterr().err
    assert main(["eval", str(EXAMPLE), "--sheet", "继续教育学时", "-q"]) == 1


class FakeTerminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.io.progress.DELAY", 0.0)
    monkeypatch.setattr("engine.io.progress.EVERY", 0.0)
    terminal = FakeTerminal()
    progress = Progress(terminal, enabled=True)  # type: ignore[arg-type]
    progress.read(0.5)
    progress.done(256)
    progress.close()
    assert "256 records" in terminal.text and "left" in terminal.text
    assert terminal.text.endswith("\r")
    quiet = FakeTerminal()
    silent = Progress(quiet, enabled=False)  # type: ignore[arg-type]
    silent.done(256)
    silent.close()
    assert quiet.text == ""
