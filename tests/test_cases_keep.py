"""Golden cases an officer can keep: a wrong key fails only its own case, `-k` picks
cases, a report row can be expected absent, and expectations may use labels."""

from pathlib import Path

from engine.tools.cases import read_cases, run_case, run_files
from engine.tools.cli import main

BINZHOU = Path(__file__).resolve().parent.parent / "policies" / "binzhou"
PAPER = ("{id: r1, person: p1, year: 2021, kind: paper, venue: cn_serial, words: 3000, "
         "authors: 1, position: 1}")  # fmt: skip


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(f"policy: {BINZHOU}\ncases:\n{body}", encoding="utf-8")
    return path


def test_a_wrong_key_fails_its_own_case_and_the_others_run(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f"""\
  - name: 拼错了键
    recrods: [{PAPER}]
    expect: {{r1: {{amount: 15}}}}
  - name: 国家级论文，独著
    records: [{PAPER}]
    expect: {{r1: {{amount: 15, counted: true}}}}
""",
    )
    outcomes = list(run_files([path]))
    assert [(o.case.name, o.case.line, o.passed) for o in outcomes] == [
        ("拼错了键", 3, False), ("国家级论文，独著", 6, True)]  # fmt: skip
    assert outcomes[0].failures == [
        "unknown key `recrods`; allowed: cite, each, expect, expect_report, name, params, "
        "records, table"
    ]


def test_labels_may_stand_for_names_in_expectations(tmp_path: Path) -> None:
    short = PAPER.replace("words: 3000", "words: 800")
    path = _file(
        tmp_path,
        f"""\
  - name: 标签
    records: [{short}]
    expect: {{r1: {{kind: 论文, category: 折算, regime: 学时制, counted: false,
                    reason: 论文不足 1000 字}}}}
""",
    )
    (case,) = read_cases(path)
    from engine.pipeline.policy import load

    outcome = run_case(case, load(BINZHOU))
    assert outcome.passed, outcome.describe()
    wrong = _file(
        tmp_path,
        f"""\
  - name: 标签写错
    records: [{short}]
    expect: {{r1: {{category: 公需科目}}}}
""",
    )
    (case,) = read_cases(wrong)
    assert run_case(case, load(BINZHOU)).failures == ["r1.category: expected public, got converted"]


def test_a_report_row_can_be_expected_absent(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f"""\
  - name: 没有 2022 年度的行
    records: [{PAPER}]
    expect_report:
      - {{scope: year, person: p1, year: 2022, absent: true}}
  - name: 2021 年度的行不该有
    records: [{PAPER}]
    expect_report:
      - {{scope: year, person: p1, year: 2021, absent: true}}
""",
    )
    first, second = run_files([path])
    assert first.passed and second.failures == [
        "report row (scope year, person p1, year 2021): expected no such row, but the report has it"
    ]


def test_k_runs_only_the_cases_it_names(tmp_path: Path, capsys) -> None:
    path = _file(
        tmp_path,
        f"""\
  - name: 国家级论文，独著
    records: [{PAPER}]
    expect: {{r1: {{amount: 15}}}}
  - name: 错的期望
    records: [{PAPER}]
    expect: {{r1: {{amount: 99}}}}
""",
    )
    assert main(["test", str(path), "-k", "独著"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("1 passed, 0 failed")
    assert main(["test", str(path), "-k", "cases.yaml:6"]) == 1
    assert "1 passed" not in capsys.readouterr().out
    assert main(["test", str(path), "-k", "没有这个"]) == 1
    assert "no case matches `-k 没有这个`" in capsys.readouterr().out


def test_update_writes_the_actual_values_into_the_failing_expectations(
    tmp_path: Path, capsys
) -> None:
    path = _file(
        tmp_path,
        f"""\
  # 一个注释
  - name: 两个期望写错了
    records: [{PAPER}]
    expect:
      r1: {{amount: 7, counted: true}}   # 旧值
  - name: 多行的期望
    records: [{PAPER.replace("words: 3000", "words: 800")}]
    expect:
      r1:
        amount: 15
        reason: none
  - name: 对的
    records: [{PAPER}]
    expect: {{r1: {{amount: 15}}}}
""",
    )
    assert main(["test", str(path), "--update"]) == 1
    out = capsys.readouterr().out
    assert f"updated {path}:7: r1.amount = 15" in out
    assert f"updated {path}:12: r1.amount = 0" in out
    assert f"updated {path}:13: r1.reason = too_short" in out
    text = path.read_text(encoding="utf-8")
    assert "      r1: {amount: 15, counted: true}   # 旧值\n" in text
    assert "        amount: 0\n        reason: too_short\n" in text
    assert main(["test", str(path)]) == 0
