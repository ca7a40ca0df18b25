"""Hostile input files: zip bombs, sheets too long to read, broken or entity-laden XML,
bad bytes in CSV. Each is refused, or read as far as it is good, with a clear error and
bounded work; never a traceback, a 500 or a silent misreading.

Small files live in `tests/corpus/records/`; big ones are built here on the spot.
"""

import io
import json
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

import engine
from engine.io.cells import CellReader
from engine.io.inputs import InputError, TooManyRows, read_records
from engine.service.serve import Options, build
from engine.syntax.limits import MAX_RATIO, MAX_UNZIPPED
from engine.tools.cli import main

CORPUS = Path(__file__).parent / "corpus" / "records"
POLICY = engine.load()
CELLS = CellReader([POLICY.model])
SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>kind</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>year</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>credits</t></is></c></row>'
)
TAIL = b"</sheetData></worksheet>"
LECTURE = b'<c t="inlineStr"><is><t>lecture</t></is></c>'


def _workbook() -> bytes:
    """A valid workbook, as openpyxl writes it: a header and two lectures."""
    book = openpyxl.Workbook()
    for row in (["kind", "year", "credits"], ["lecture", 2019, 1], ["lecture", 2019, 2]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _replaced(path: Path, member: str, chunks: Callable[[bytes], Iterator[bytes]]) -> Path:
    """A copy of the valid workbook with one part's text replaced (written in chunks)."""
    source = zipfile.ZipFile(io.BytesIO(_workbook()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != member:
                out.writestr(info.filename, data)
                continue
            part = zipfile.ZipInfo(member)
            part.compress_type = zipfile.ZIP_DEFLATED
            with out.open(part, "w", force_zip64=True) as stream:
                for chunk in chunks(data):
                    stream.write(chunk)
    return path


def _rows(count: int) -> Callable[[bytes], Iterator[bytes]]:
    """A sheet of `count` lecture rows after the header, with no `dimension`."""

    def chunks(_: bytes) -> Iterator[bytes]:
        yield HEAD
        for n in range(2, count + 2):
            yield b'<row r="%d">%s<c><v>2019</v></c></row>' % (n, LECTURE)
        yield TAIL

    return chunks


def _records(path: Path, limit: int | None = None) -> list[tuple[int, object]]:
    return list(read_records(path, CELLS, limit=limit))


def _upload(path: Path, **options: int) -> tuple[int, dict]:
    service = build(None, Options(reload_every=0, **options))
    with TestClient(service.app()) as client:
        answer = client.post(f"/v1/report/upload?name={path.name}", content=path.read_bytes())
    return answer.status_code, answer.json()


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many XML elements openpyxl has parsed from sheets (all its passes)."""
    import openpyxl.worksheet._reader as reader

    count = [0]
    real = reader.iterparse

    def counting(source, *args, **kwargs):
        for item in real(source, *args, **kwargs):
            count[0] += 1
            yield item

    monkeypatch.setattr(reader, "iterparse", counting)
    return count


# ── 1. zip bombs: refused from the zip directory, before anything is unpacked ──
def _bomb(path: Path) -> Path:
    """A sheet of 8 MiB of spaces, packed a thousand times (the reviewer's was 4.2 GB)."""
    spaces = b" " * 2**20
    return _replaced(path, SHEET, lambda _: iter([HEAD, *[spaces] * 8, TAIL]))


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path, monkeypatch) -> None:
    bomb = _bomb(tmp_path / "bomb.xlsx")
    packed = zipfile.ZipFile(bomb).getinfo(SHEET).compress_size
    monkeypatch.setattr("engine.io.inputs._open_book", pytest.fail)  # never reached
    with pytest.raises(InputError) as caught:
        _records(bomb)
    ratio = zipfile.ZipFile(bomb).getinfo(SHEET).file_size // packed
    assert ratio > MAX_RATIO
    assert str(caught.value) == (
        f"`{bomb}` is refused: its part `{SHEET}` unpacks to {ratio:,} times its packed "
        f"size, over the limit of {MAX_RATIO} times (a zip bomb)"
    )


def _declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip directory say `member` unpacks to `size` bytes (the data unchanged)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", data, at + 24, size)
    path.write_bytes(bytes(data))


def test_a_part_declared_too_large_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch
) -> None:
    book = tmp_path / "large.xlsx"
    book.write_bytes(_workbook())
    _declare_size(book, SHEET, MAX_UNZIPPED + 1)
    monkeypatch.setattr("engine.io.inputs._open_book", pytest.fail)  # never reached
    assert main(["eval", str(book), "-q"]) == 2
    with pytest.raises(InputError) as caught:
        _records(book)
    assert str(caught.value) == (
        f"`{book}` is refused: its part `{SHEET}` unpacks to {MAX_UNZIPPED + 1:,} bytes, "
        f"over the limit of {MAX_UNZIPPED:,} bytes for one part"
    )


def test_a_part_that_unpacks_to_more_than_its_directory_says_is_cut_there(
    tmp_path: Path,
) -> None:
    """The zip reader unpacks no more than the directory says; then the file is damaged."""
    book = _bomb(tmp_path / "liar.xlsx")
    _declare_size(book, SHEET, 4096)
    with pytest.raises(InputError, match="the workbook cannot be read: "):
        _records(book)


def test_the_service_refuses_a_zip_bomb_with_a_400(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.xlsx")
    status, answer = _upload(bomb)
    assert status == 400 and answer["error"]["code"] == "bad_file"
    assert answer["error"]["message"].startswith(f"`bomb.xlsx` is refused: its part `{SHEET}`")


# ── 2. row limits act while streaming ───────────────────────────────────────
def test_a_long_sheet_is_refused_at_the_limit_not_read_whole(tmp_path: Path, parsed) -> None:
    """No `dimension` either: openpyxl's own read-only load would parse the whole sheet
    just to size it."""
    sheet = _replaced(tmp_path / "long.xlsx", SHEET, _rows(100_000))
    with pytest.raises(TooManyRows) as caught:
        _records(sheet, limit=1000)
    assert str(caught.value) == (
        f"`{sheet}` has more than 1,000 rows, the most that may be read at once"
    )
    assert parsed[0] < 1002 * 10  # about 6 elements a row: the rest was never parsed


def test_blank_rows_count_toward_the_limit(tmp_path: Path) -> None:
    def blanks(_: bytes) -> Iterator[bytes]:
        yield HEAD + b'<row r="2">%s<c><v>2019</v></c></row>' % LECTURE
        yield b'<row r="1000000">%s</row>' % LECTURE + TAIL

    sheet = _replaced(tmp_path / "gap.xlsx", SHEET, blanks)
    with pytest.raises(TooManyRows):
        _records(sheet, limit=1000)
    assert [n for n, _ in _records(sheet)] == [2, 1000000]


def test_cells_far_to_the_right_are_read_without_trouble(tmp_path: Path) -> None:
    """A `dimension` claiming 16,384 columns, a stray header cell in the last column and
    data under it: the rows are read, each looked at only in its named columns."""
    stray = b'<c r="XFD1" t="inlineStr"><is><t>stray</t></is></c></row>'

    def wide(_: bytes) -> Iterator[bytes]:
        head = HEAD.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
        yield head.replace(b"</row>", stray, 1)
        for n in range(2, 2002):
            yield b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>lecture</t></is></c></row>' % (
                n,
                n,
            )
        yield b'<row r="2002"><c r="XFD2002"><v>1</v></c></row>' + TAIL

    records = _records(_replaced(tmp_path / "wide.xlsx", SHEET, wide))
    assert len(records) == 2001 and records[0] == (2, {"kind": "lecture"})
    assert records[-1] == (2002, {"stray": 1})


def test_the_service_refuses_a_long_sheet_at_ten_times_max_records(tmp_path: Path) -> None:
    sheet = _replaced(tmp_path / "long.xlsx", SHEET, _rows(5000))
    status, answer = _upload(sheet, max_records=100)
    assert (status, answer["error"]["code"]) == (413, "too_many_records")
    assert answer["error"]["message"] == (
        "`long.xlsx` has more than 1,000 rows, the most that may be read at once"
    )
    assert _upload(_replaced(tmp_path / "ok.xlsx", SHEET, _rows(1000)), max_records=100)[0] == 200


def test_a_long_csv_stops_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("kind,year,credits\n" + "lecture,2019,1\n" * 200_000, encoding="utf-8")
    rows = read_records(path, CELLS, limit=1000)
    assert sum(1 for _ in zip(range(1000), rows, strict=False)) == 1000
    with pytest.raises(TooManyRows) as caught:
        next(rows)
    assert str(caught.value) == (
        f"`{path}` has more than 1,000 rows, the most that may be read at once"
    )
    status, answer = _upload(path, max_records=100)
    assert (status, answer["error"]["code"]) == (413, "too_many_records")


def test_json_lines_and_json_stop_at_the_limit(tmp_path: Path) -> None:
    line = '{"kind": "lecture", "year": 2019, "credits": 1}\n'
    lines = tmp_path / "long.jsonl"
    lines.write_text(line * 5, encoding="utf-8")
    assert len(_records(lines, limit=5)) == 5
    with pytest.raises(TooManyRows, match=r"has more than 4 lines"):
        _records(lines, limit=4)
    items = tmp_path / "long.json"
    items.write_text("[" + ", ".join([line.strip()] * 5) + "]", encoding="utf-8")
    with pytest.raises(TooManyRows, match=r"has more than 4 records"):
        _records(items, limit=4)


# ── 3. XML: no entities, and a broken part is a clean file-level error ─────
def test_openpyxl_reads_xml_through_defusedxml() -> None:
    import defusedxml.ElementTree
    import openpyxl.xml
    import openpyxl.xml.functions

    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse is defusedxml.ElementTree.iterparse


LAUGHS = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
BROKEN = {
    "a-sheet-tag-mismatched": (SHEET, lambda d: d.replace(b"</row>", b"</rov>", 1)),
    "a-sheet-cut-short": (SHEET, lambda d: d[: len(d) // 2]),
    "the-workbook-cut-short": ("xl/workbook.xml", lambda d: d[:-20]),
    "styles-not-xml": ("xl/styles.xml", lambda d: b"\x00\xff not xml"),
    "entities": (SHEET, lambda d: LAUGHS + d.replace(b"<v>2019</v>", b"<v>&lol2;</v>")),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_workbook_is_a_file_level_error(tmp_path: Path, case: str, capsys) -> None:
    member, change = BROKEN[case]
    book = _replaced(tmp_path / f"{case}.xlsx", member, lambda d: iter([change(d)]))
    assert main(["eval", str(book), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rules eval: `{book}`: the workbook cannot be read: ")
    assert "Traceback" not in err
    status, answer = _upload(book)
    assert (status, answer["error"]["code"]) == (400, "bad_file")
    assert answer["error"]["message"].startswith(f"`{case}.xlsx`: the workbook cannot be read: ")
    if case == "entities":
        assert answer["error"]["message"].endswith(
            "its XML declares entities or refers to other files, which is not allowed"
        )


def test_the_broken_workbook_cli_has_no_traceback_in_a_subprocess(tmp_path: Path) -> None:
    import subprocess
    import sys

    member, change = BROKEN["a-sheet-tag-mismatched"]
    book = _replaced(tmp_path / "broken.xlsx", member, lambda d: iter([change(d)]))
    done = subprocess.run(
        [sys.executable, "-m", "engine", "report", str(book), "-q"],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.decode().startswith(f"rules report: `{book}`: the workbook cannot be read")
    assert b"Traceback" not in done.stderr


VALID = _workbook()
PARTS = [i.filename for i in zipfile.ZipFile(io.BytesIO(VALID)).infolist()]


@given(
    st.sampled_from(PARTS),
    st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=4)), max_size=4),
)
def test_any_damage_to_a_part_gives_records_or_an_input_error(part: str, edits: list) -> None:
    source = zipfile.ZipFile(io.BytesIO(VALID))
    data = bytearray(source.read(part))
    for where, new in edits:
        at = int(where * len(data))
        data[at : at + len(new)] = new
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name in PARTS:
            book.writestr(name, bytes(data) if name == part else source.read(name))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.xlsx"
        path.write_bytes(out.getvalue())
        try:
            _records(path)
        except InputError as error:
            assert str(error).startswith(f"`{path}`")


# ── 4. a bad byte in a UTF-8 CSV: its row is an error in place, the rest read ──
def test_a_bad_byte_in_a_utf8_csv_is_an_error_in_its_row() -> None:
    path = CORPUS / "utf8-bad-byte.csv"
    results = list(POLICY.evaluate_numbered(read_records(path, CELLS)))
    assert [(r["id"], r.get("amount")) for r in results] == [(2, 30), (3, None), (4, 10)]
    assert results[1]["error"] == {
        "code": "invalid_record",
        "field": None,
        "message": "row 3 is not UTF-8 text: byte 0xff in column `人员`",
    }


def test_a_bad_byte_in_a_csv_is_reported_as_json_lines_reports_one(tmp_path: Path) -> None:
    bad = b'{"kind": "lecture", "year": 2019, "credits": 1, "note": "\xff"}\n'
    lines = tmp_path / "bad.jsonl"
    lines.write_bytes(b'{"kind": "lecture", "year": 2019, "credits": 1}\n' + bad)
    [(_, good), (_, unreadable)] = _records(lines)
    assert unreadable.message == "line 2 is not UTF-8 text: invalid start byte"
    sheet = tmp_path / "bad.csv"
    sheet.write_bytes(b"kind,year,credits\nlecture,2019,1\nlecture,2019,\xff\n")
    [(_, record), (_, row)] = _records(sheet)
    assert record == good
    assert row.message == "row 3 is not UTF-8 text: byte 0xff in column `credits`"


def test_a_bad_byte_in_the_header_is_a_file_level_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "head.csv"
    path.write_bytes("人员,年度,类型,学".encode() + b"\xff\np1,2021,x,30\n")
    assert main(["eval", str(path), "-q"]) == 2
    assert capsys.readouterr().err == (
        f"rules eval: `{path}`: the header row is not UTF-8 text: byte 0xff in column 4\n"
    )


def test_a_gb18030_csv_is_still_read_as_gb18030(tmp_path: Path, capsys) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("人员,年度,类型,学时\np1,2021,公需科目,30\n".encode("gb18030"))
    assert main(["eval", str(path), "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["amount"] == 30
