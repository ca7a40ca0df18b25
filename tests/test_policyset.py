"""Policy sets: several policies loaded together, each record decided by the one in force."""

import json
from pathlib import Path

import pytest

import engine
from engine.tools.cli import main

ROOT = Path(__file__).resolve().parent.parent
BINZHOU = ROOT / "policies" / "binzhou"
DRAFT = ROOT / "policies" / "examples" / "binzhou-2022-draft"
SET_FILE = ROOT / "policies" / "examples" / "binzhou-2021-2022.yaml"
GAP_SET = ROOT / "policies" / "examples" / "binzhou-2021-2023.yaml"
PAPER = {"kind": "paper", "venue": "cn_serial", "words": 3000, "authors": 4, "position": 4}


@pytest.fixture(scope="module")
def both() -> engine.PolicySet:
    return engine.load([BINZHOU, DRAFT])


def test_each_record_goes_to_the_policy_of_its_year(both: engine.PolicySet) -> None:
    old = both.evaluate({**PAPER, "year": 2021})
    new = both.evaluate({**PAPER, "year": 2022})
    credits = both.evaluate({"kind": "lecture", "year": 2019, "credits": 2})
    assert (old["amount"], old["policy"]) == (3, "binzhou")
    assert (new["amount"], new["policy"]) == (2, "binzhou_2022_draft")
    assert (credits["regime"], credits["policy"]) == ("credits", "binzhou")
    assert new["version"] == both.member_named("binzhou_2022_draft").version != old["version"]


def test_a_set_file_names_its_policies(both: engine.PolicySet) -> None:
    from_file = engine.load(SET_FILE)
    assert isinstance(from_file, engine.PolicySet)
    assert from_file.name == "binzhou-2021-2022"
    assert from_file.label == "滨州市继续教育（2021 年通知与 2022 年度草案）"
    assert [m.name for m in from_file.members] == ["binzhou", "binzhou_2022_draft"]
    assert both.name == "binzhou+binzhou_2022_draft"


def test_a_kind_of_another_year_names_where_it_is_in_force(both: engine.PolicySet) -> None:
    with pytest.raises(engine.RecordError) as caught:
        both.evaluate({"kind": "micro_course", "year": 2021, "certificates": 1})
    assert caught.value.code == "unknown_kind"
    assert caught.value.message.endswith(
        '; got "micro_course" (a text); `micro_course` is a kind of `binzhou_2022_draft` (2022..)'
    )


def test_many_records_keep_order_and_errors_stay_in_place(both: engine.PolicySet) -> None:
    records = [{**PAPER, "year": 2022}, "not a record", {**PAPER, "year": 2021}, {"year": 2022}]
    results = list(both.evaluate_many(records))
    assert [r.get("amount", r.get("error", {}).get("code")) for r in results] == [
        2, "invalid_record", 3, "invalid_record",
    ]  # fmt: skip
    assert [r["id"] for r in results] == [1, 2, 3, 4]


def test_a_report_spans_both_policies(both: engine.PolicySet) -> None:
    rows = both.report([
        {**PAPER, "person": "p", "year": 2021},
        {**PAPER, "person": "p", "year": 2022},
        {"person": "p", "kind": "micro_course", "year": 2022, "certificates": 2},
    ])  # fmt: skip
    assert [(r["year"], r["policy"], r["converted"], r["professional"]) for r in rows] == [
        (2021, "binzhou", 3, 0),
        (2022, "binzhou_2022_draft", 2, 4),
    ]


def test_the_schema_of_a_set_is_any_of_its_policies(both: engine.PolicySet) -> None:
    schema = both.schema()
    assert [part["$id"] for part in schema["anyOf"]] == [
        "urn:rules:binzhou",
        "urn:rules:binzhou_2022_draft",
    ]
    micro = both.schema("micro_course")
    assert [part["$id"] for part in micro["anyOf"]] == ["urn:rules:binzhou_2022_draft:micro_course"]
    with pytest.raises(KeyError):
        both.schema("nothing")


def test_explain_goes_to_the_policy_of_the_year(both: engine.PolicySet) -> None:
    explained = both.explain({**PAPER, "year": 2022})
    assert explained["policy"] == "binzhou_2022_draft"
    texts = [(s["text"], s["cite"]) for s in explained["steps"]]
    assert ("first = ceil(total / 2) = 8", "草案 四") in texts
    assert ("合著分配：share(15, 4, 4) = 2", "草案 四") in texts


def _tiny(tmp_path: Path, name: str, years: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "p.rules").write_text(
        f"policy {name}\nregime r {{ years {years} unit points }}\ncategory c\n"
        'kind k { n: int }\nrule k { category c cite "§1" amount n }\n',
        encoding="utf-8",
    )
    return folder


def test_a_year_no_policy_covers(tmp_path: Path) -> None:
    policies = engine.load([_tiny(tmp_path, "a", "2018..2019"), _tiny(tmp_path, "b", "2020..")])
    with pytest.raises(engine.RecordError) as caught:
        policies.evaluate({"kind": "k", "year": 2017, "n": 1})
    assert caught.value.code == "no_policy_in_force"
    assert caught.value.message == (
        "no policy is in force for `year` 2017; the policies cover: `a` 2018..2019, `b` 2020.."
    )


def test_a_gap_an_amendment_declares_is_decided_by_neither(capsys) -> None:
    policies = engine.load(GAP_SET)
    award = {"kind": "award", "level": "provincial", "tier": "first", "rank": 1, "person": "p"}
    assert policies.evaluate({**award, "year": 2021})["amount"] == 35
    assert policies.evaluate({**award, "year": 2023})["amount"] == 38
    with pytest.raises(engine.RecordError) as caught:
        policies.evaluate({**award, "year": 2022})
    assert caught.value.code == "no_policy_in_force"
    assert caught.value.message == (
        "no policy is in force for `year` 2022; the policies cover: `binzhou` ..2021, "
        "`binzhou_2023` 2023..; 2022 is the gap that `binzhou_2023` (2023..) leaves after its "
        "base `binzhou` (..2021): neither decides it"
    )
    rows = policies.report([{**award, "year": y, "id": str(y)} for y in (2021, 2022, 2023)])
    assert [(r["scope"], r.get("year"), r.get("id")) for r in rows] == [
        ("year", 2021, None),
        ("year", 2023, None),
        ("error", None, "2022"),
    ]
    assert main(["check", str(GAP_SET)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "extends binzhou after a gap of 2022, years 2023.." in out[1]
    assert out[-1].endswith(": ok — 2 policies, years ..; gap 2022 (declared by `binzhou_2023`)")


def test_overlapping_policies_do_not_load(tmp_path: Path) -> None:
    with pytest.raises(engine.PolicyError) as caught:
        engine.load([_tiny(tmp_path, "a", "2018..2020"), _tiny(tmp_path, "b", "2020..")])
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "set-overlap"
    assert diagnostic.message == (
        "the policies `a` (2018..2020) and `b` (2020..) are both in force in some years"
    )


def test_an_open_policy_ends_where_a_later_one_begins(tmp_path: Path) -> None:
    policies = engine.load([_tiny(tmp_path, "a", "2018.."), _tiny(tmp_path, "b", "2022..")])
    assert policies.evaluate({"kind": "k", "year": 2021, "n": 1})["policy"] == "a"
    assert policies.evaluate({"kind": "k", "year": 2022, "n": 1})["policy"] == "b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "a policy set is a mapping with `policies:`, a list of policy folders"),
        ("policies: [a]\nowner: x\n", "unknown key `owner`; allowed: label, name, policies"),
        ("policies: []\n", "`policies` lists one or more policy folders, as texts"),
    ],
)
def test_a_bad_set_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(path)
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [("set-file", message)]


def test_the_command_line_takes_policy_more_than_once(tmp_path: Path, capsys) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text(
        json.dumps({**PAPER, "id": "x", "year": 2021}) + "\n"
        + json.dumps({**PAPER, "id": "y", "year": 2022}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    status = main(["eval", str(records), "--policy", str(BINZHOU), "--policy", str(DRAFT)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [(r["id"], r["amount"], r["policy"]) for r in lines] == [
        ("x", 3, "binzhou"),
        ("y", 2, "binzhou_2022_draft"),
    ]
    assert main(["check", str(SET_FILE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("binzhou-2021-2022 ")
    assert out[-1].endswith(": ok — 2 policies, years ..")
