"""The golden-case runner itself: unknown keys, mismatches, and its messages."""

from pathlib import Path

import pytest

from engine.pipeline.policy import load
from engine.tools.cases import CaseFileError, read_cases, run_case
from engine.tools.cli import main


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_case_key_is_an_error_of_that_case(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  - name: x\n    records: []\n    expected: {}\n")
    (case,) = read_cases(path)
    assert (case.line, case.name) == (2, "x")
    assert case.problem is not None and case.problem.startswith("unknown key `expected`")


def test_unknown_file_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "polcy: x\ncases: []\n")
    with pytest.raises(CaseFileError, match="unknown key `polcy`"):
        read_cases(path)


def test_a_mismatch_names_case_key_expected_and_actual(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """cases:
  - name: 国家级论文，四人合著，第四作者
    records:
      - {id: r1, year: 2021, kind: paper, venue: cn_serial, words: 3000, authors: 4, position: 4}
    expect:
      r1: {amount: 4, counted: true}
""",
    )
    (case,) = read_cases(path)
    outcome = run_case(case, load())
    assert outcome.describe() == (
        f"{path}:2: 国家级论文，四人合著，第四作者\n    r1.amount: expected 4, got 3"
    )


def test_cli_test_prints_summary_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        """cases:
  - name: right
    records: [{id: a, year: 2021, kind: degree, passed: true}]
    expect: {a: {amount: 20}}
  - name: wrong
    records: [{id: a, year: 2021, kind: degree, passed: true}]
    expect: {a: {error: invalid_record}}
""",
    )
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("1 passed, 1 failed — binzhou ")
    assert "a.error: expected invalid_record, got nothing" in out


def test_cli_test_runs_the_project_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert " passed, 0 failed — binzhou " in last


TABLE = """cases:
  - name: 成果表
    each: {year: 2021, kind: award, rank: 1}
    table: |
      level     tier   | amount
      county    first  | 15
      national  third  | 31
"""


def test_table_driven_case_reports_the_failing_row(tmp_path: Path) -> None:
    path = write(tmp_path, TABLE)
    (case,) = read_cases(path)
    assert [r["level"] for r in case.records] == ["county", "national"]
    outcome = run_case(case, load())
    assert outcome.failures == ["line 7: row 2.amount: expected 31, got 30"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("level | amount\n      county", "table row 1 has 1 + 0 cells; the header has 1 + 1"),
        ("level | points\n      county | 3", "`points` is not a result key"),
        ("level amount\n      county 3", "a `table` starts with a header"),
    ],
)
def test_table_format_errors(tmp_path: Path, table: str, message: str) -> None:
    path = write(tmp_path, TABLE.split("    table: |")[0] + f"    table: |\n      {table}\n")
    (case,) = read_cases(path)
    assert case.problem is not None and message in case.problem


def test_params_override_for_one_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        """cases:
  - name: 字数门槛降为 800
    params: {min_words: 800}
    records: [{id: a, year: 2021, kind: paper, venue: cn_serial, words: 900,
               authors: 1, position: 1}]
    expect: {a: {amount: 15}}
  - name: 原门槛
    records: [{id: a, year: 2021, kind: paper, venue: cn_serial, words: 900,
               authors: 1, position: 1}]
    expect: {a: {counted: false, reason: too_short}}
  - name: 不存在的参数
    params: {min_word: 800}
    records: []
    expect: {a: {amount: 1}}
""",
    )
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert (
        "    params: the override names no parameter `min_word` (did you mean `min_words`?)"
        in out.splitlines()
    )
    assert out.splitlines()[-1].startswith("2 passed, 1 failed — binzhou ")


def test_expect_report_mismatch_names_the_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """cases:
  - name: 年度汇总
    records: [{person: p1, year: 2021, kind: public_course, hours: 30}]
    expect_report:
      - {scope: year, person: p1, year: 2021, public_total: 31}
      - {scope: year, person: p2, year: 2021}
""",
    )
    (case,) = read_cases(path)
    assert run_case(case, load()).failures == [
        "report row (scope year, person p1, year 2021).public_total: expected 31, got 30",
        "report row (scope year, person p2, year 2021): no such row",
    ]


def test_coverage_below_minimum_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, TABLE.replace("31", "30"))
    assert main(["test", str(path), "--coverage", "--min", "50"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("1 passed, 0 failed — binzhou ")
    assert out[-2] == "coverage is below the minimum of 50%"
    assert any(
        line.startswith("not reached: ") and "rule `paper` in `hours`" in line for line in out
    )
