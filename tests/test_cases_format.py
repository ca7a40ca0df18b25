"""The golden-case runner itself: unknown keys, mismatches, and its messages."""

from pathlib import Path

import pytest

from engine.cases import CaseFileError, read_cases, run_case
from engine.cli import main
from engine.policy import load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_case_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  - name: x\n    records: []\n    expected: {}\n")
    with pytest.raises(CaseFileError, match=r"cases.yaml:2: unknown key `expected`"):
        read_cases(path)


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
    assert out.splitlines()[-1] == "1 passed, 1 failed"
    assert "a.error: expected 'invalid_record', got nothing" in out


def test_cli_test_runs_the_project_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.endswith(" passed, 0 failed")
