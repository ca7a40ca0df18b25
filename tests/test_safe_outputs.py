"""What the engine writes is safe to open and to read back.

A record's text that a spreadsheet would take for a formula (OWASP: it starts with `=`,
`+`, `-`, `@`, a tab or a carriage return) stays text in every workbook (`--output
x.xlsx`, `rules diff -o`, the service's and the page's download) and is escaped with a
`'` in CSV; numbers stay numbers. JSON escapes U+2028 and U+2029, so that a reader
splitting lines as `str.splitlines` does sees one line per record. No number is written
with an exponent.
"""

import csv
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from starlette.testclient import TestClient

import engine
from engine.io.outputs import Writer, xlsx_value
from engine.running.jsonout import decimal_text, dumps, scalar_text
from engine.service.serve import Options, build
from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
FORMULAS = ROOT / "tests" / "corpus" / "records" / "spreadsheet-formulas.jsonl"
DRAFT = ROOT / "policies" / "examples" / "binzhou-2022-draft"
RISKY = ("=", "+", "-", "@", "\t", "\r")
POLICY = engine.load()
IDS = ["=1+1", "+cmd|' /C calc'!A0", "\tTAB", "#N/A", "unknown-field", "tiny"]
HYPERLINK = '=HYPERLINK("http://example.com","x")'


def _cells(path: Path) -> dict[str, list[list[openpyxl.cell.cell.Cell]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [list(row) for row in ws.iter_rows()] for ws in book.worksheets}


def _assert_no_formula(path: Path) -> None:
    """No cell of any sheet is a formula or an error value; every text a spreadsheet
    could run is marked as text."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    for rows in _cells(path).values():
        for cell in (c for row in rows for c in row):
            assert cell.data_type in ("s", "n", "b"), (cell.coordinate, cell.value)
            if isinstance(cell.value, str) and cell.value.startswith(RISKY):
                assert cell.data_type == "s" and cell.quotePrefix, cell.value


# ── 5. formulas ─────────────────────────────────────────────────────────────
def test_eval_to_xlsx_writes_formula_text_as_text(tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    assert main(["eval", str(FORMULAS), "-q", "-o", str(out)]) == 1
    _assert_no_formula(out)
    rows = _cells(out)["results"]
    assert [row[0].value for row in rows[1:]] == IDS
    assert rows[4][1].value == "p\ufffdq"  # a control character XLSX cannot hold
    assert rows[4][0].data_type == "s"  # `#N/A` is a text, not an error value
    assert rows[5][11].value == HYPERLINK  # error.field, from the record's own key
    assert rows[6][7].value == 2e-12 and rows[6][7].data_type == "n"  # a number stays one


def test_report_to_xlsx_writes_formula_text_as_text(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert main(["report", str(FORMULAS), "-q", "-o", str(out)]) == 1
    _assert_no_formula(out)
    sheets = _cells(out)
    persons = {row[1].value for row in sheets["person-years"][1:]}
    assert {"@SUM(A1:A9)", "-2+3", "p\ufffdq"} <= persons
    assert sheets["errors"][1][2].value == HYPERLINK


def test_csv_outputs_escape_formulas_by_the_owasp_rule(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    assert main(["eval", str(FORMULAS), "-q", "-o", str(out)]) == 1
    with out.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["id"] for r in rows] == ["'=1+1", "'+cmd|' /C calc'!A0", "'\tTAB", *IDS[3:]]
    assert [r["person"] for r in rows[:3]] == ["'@SUM(A1:A9)", "'-2+3", "'\rCR"]
    assert rows[4]["error.field"] == "'" + HYPERLINK
    assert rows[5]["amount"] == "0.000000000002"
    report = tmp_path / "report.csv"
    assert main(["report", str(FORMULAS), "-q", "-o", str(report)]) == 1
    text = report.read_text(encoding="utf-8-sig")
    assert "'@SUM(A1:A9)" in text and "'=HYPERLINK" in text and ",=" not in text


def test_numbers_stay_numbers_and_a_text_that_looks_like_one_stays_text(tmp_path: Path) -> None:
    columns = ["id", "amount", "delta", "share"]
    row = {"id": "-3", "amount": -3, "delta": Decimal("-3"), "share": Decimal("-0.5")}
    for suffix in (".xlsx", ".csv"):
        writer = Writer(tmp_path / f"out{suffix}", columns, {}, report=False)
        writer.write(row)
        writer.close()
    [cells] = _cells(tmp_path / "out.xlsx")["results"][1:]
    assert [(c.value, c.data_type) for c in cells] == [
        ("-3", "s"),
        (-3, "n"),
        (-3, "n"),
        (-0.5, "n"),
    ]
    assert cells[0].quotePrefix
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[1] == "'-3,-3,-3,-0.5"


def test_the_diff_workbook_writes_formula_text_as_text(tmp_path: Path, capsys) -> None:
    lines = (ROOT / "examples" / "unit-2021.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        if record.get("person") in ("37160029", "37160030"):
            record["person"] = "=1+1" if record["person"] == "37160029" else "@SUM(A1)"
    given = tmp_path / "records.jsonl"
    given.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    book = tmp_path / "impact.xlsx"
    policies = [str(ROOT / "policies" / "binzhou"), str(DRAFT)]
    assert main(["diff", *policies, str(given), "--shift-years", "1", "-o", str(book)]) == 0
    capsys.readouterr()
    _assert_no_formula(book)
    changed = _cells(book)["记录"][1:]
    persons = {row[2].value: row[7] for row in changed}
    assert persons["=1+1"].value == -1 and persons["=1+1"].data_type == "n"
    assert persons["@SUM(A1)"].value == -1


def test_the_service_download_writes_formula_text_as_text(tmp_path: Path) -> None:
    sheet = (
        "人员,年度,类型,学时,备注\n"
        f'"{HYPERLINK.replace(chr(34), chr(34) * 2)}",2021,公需科目,30,\n'
        "@cmd,2021,公需科目,-3,\n"
        "p3,2021,公需科目,30,+1\n"
    ).encode()
    service = build(None, Options(reload_every=0))
    with TestClient(service.app()) as client:
        answer = client.post("/v1/report/upload?name=unit.csv&format=xlsx", content=sheet)
        page = client.get("/ui/app.js").text
    assert answer.status_code == 200
    book = tmp_path / "download.xlsx"
    book.write_bytes(answer.content)
    _assert_no_formula(book)
    sheets = _cells(book)
    assert [row[1].value for row in sheets["person-years"][1:]] == [HYPERLINK]
    assert [row[1].value for row in sheets["errors"][1:]] == ["invalid_record"] * 2
    assert sheets["errors"][2][2].value == "备注"
    # the page's download is this very workbook, not one the script builds
    assert 'upload(state.file, "xlsx")' in page and "XLSX" not in page


# ── 6. U+2028 and U+2029 ───────────────────────────────────────────────────
SEPARATED = "a\u2028b\u2029c"


def test_json_escapes_line_and_paragraph_separators() -> None:
    assert dumps({"id": SEPARATED}) == '{"id": "a\\u2028b\\u2029c"}'
    assert scalar_text(SEPARATED) == '"a\\u2028b\\u2029c"'
    assert dumps([Decimal("0.1"), SEPARATED]) == '[0.1, "a\\u2028b\\u2029c"]'
    assert dumps({"id": "中文", "n": 1}) == '{"id": "中文", "n": 1}'  # nothing else changes
    result = POLICY.evaluate(
        {"id": SEPARATED, "person": SEPARATED, "year": 2021, "kind": "public_course", "hours": 1}
    )
    text = dumps(result)  # a result with its trace: the fast path
    assert len(text.splitlines()) == 1 and json.loads(text) == json.loads(json.dumps(result))


def test_every_json_writer_gives_one_line_per_record(tmp_path: Path, capsys) -> None:
    record = {"id": SEPARATED, "person": SEPARATED, "year": 2021, "kind": "public_course"}
    lines = [json.dumps({**record, "hours": 1}), json.dumps({**record, "hours": "x"})]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in (["eval", "-q"], ["report", "-q"], ["explain", "--format", "json"]):
        main([command[0], str(path), *command[1:]])
        out = capsys.readouterr().out
        assert len(out.splitlines()) == out.count("\n") and "a\\u2028b" in out, command
    log = tmp_path / "decisions.jsonl"
    service = build(None, Options(reload_every=0), log)
    with TestClient(service.app()) as client:
        for endpoint in ("evaluate", "report", "explain"):
            body = "[" + ", ".join(lines) + "]"
            answer = client.post(
                f"/v1/{endpoint}", content=body, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 200
            assert len(answer.text.splitlines()) == 1 and "a\\u2028b" in answer.text, endpoint
    logged = log.read_text(encoding="utf-8")
    assert len(logged.splitlines()) == logged.count("\n") == 6  # two decisions a request


# ── 7. no exponent ──────────────────────────────────────────────────────────
def test_json_numbers_are_never_written_with_an_exponent() -> None:
    cases = {
        "2E-13": "0.0000000000002",
        "-2E-13": "-0.0000000000002",
        "1E+20": "100000000000000000000",
        "1E+16": "10000000000000000",
        "0.0001": "0.0001",
        "0.00001": "0.00001",
        "2.4": "2.4",
        "1.0000000000000000001E-12": "0.0000000000010000000000000000001",
    }
    for given, written in cases.items():
        assert dumps(Decimal(given)) == written
        assert dumps({"amount": Decimal(given)}) == f'{{"amount": {written}}}'
    # only a number no record or result can hold keeps its exponent, rather than 1 MB
    assert decimal_text(Decimal("1E+999999")) == "1E+999999"


def test_a_tiny_amount_is_written_out_everywhere(tmp_path: Path, capsys) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text(
        '{"id": "t", "person": "p", "year": 2021, "kind": "public_course", '
        '"hours": 0.000000000002}\n',
        encoding="utf-8",
    )
    tiny = "0.000000000002"
    main(["eval", str(path), "-q"])
    assert f'"amount": {tiny},' in capsys.readouterr().out
    main(["eval", str(path), "-q", "-o", str(tmp_path / "out.csv")])
    assert f",{tiny}," in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    main(["report", str(path), "-q", "--format", "table"])
    table = capsys.readouterr().out
    assert tiny in table and "E-" not in table
    main(["explain", str(path)])
    assert f"{tiny} 学时" in capsys.readouterr().out
    assert xlsx_value(Decimal("1.0000000000000000001E-12")) == "0.0000000000010000000000000000001"
    assert xlsx_value(Decimal("2E-12")) == 2e-12
