"""`rules explain --needs`: what a record still being filled in lacks, which of it can
change the amount, and what each choice of the next field would give."""

import json
from pathlib import Path

import engine
from engine.tools.cli import main
from engine.views.needs import needs

POLICY = engine.load()
PAPER = {"kind": "paper", "year": 2021, "words": 3000, "authors": 2, "position": 1}


def test_a_paper_without_its_venue_needs_the_venue_and_each_venue_gives_its_amount() -> None:
    assert needs(POLICY, PAPER) == {
        "needed": ["venue"],
        "matters": ["venue"],
        "unit": "hours",
        "next": "venue",
        "choices": {"cn_serial": 8, "provincial_permit": 5, "city_permit": 3,
                    "international": 13, "none": "not counted: no_serial_number"},
    }  # fmt: skip


def test_a_complete_record_needs_nothing_and_gives_its_outcome() -> None:
    award = {"kind": "award", "year": 2021, "level": "national", "rank": 1}
    assert needs(POLICY, award) == {"needed": [], "matters": [], "unit": "hours", "outcome": 40}


def test_with_two_fields_missing_both_are_named_and_no_choice_is_worked_out() -> None:
    found = needs(POLICY, {"kind": "paper", "year": 2021, "venue": "cn_serial", "position": 1})
    assert found["needed"] == ["words", "authors"] and found["matters"] == ["words", "authors"]
    assert "choices" not in found  # two fields are missing: no single next choice


def test_without_kind_or_year_those_come_first() -> None:
    assert needs(POLICY, {"year": 2021}) == {"needed": ["kind"], "matters": ["kind"]}
    assert needs(POLICY, {"kind": "degree"}) == {"needed": ["year"], "matters": ["year"]}


def test_the_command_says_it_in_words(tmp_path: Path, capsys) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps({"id": "c", "kind": "degree", "year": 2021}) + "\n",
                       encoding="utf-8")  # fmt: skip
    assert main(["explain", "--needs", str(records)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "记录 c：还需填写：是否合格（passed）",
        "其中会影响数额的：是否合格（passed）",
        "  若是否合格（passed）为是：20 学时",
        "  若是否合格（passed）为否：不计（考试或考核未合格）",
    ]


def test_exactly_one_of_two_fields_is_a_choice_between_them() -> None:
    found = needs(POLICY, {"kind": "professional_course", "year": 2021})
    assert found == {"needed": [], "matters": ["hours", "days"], "unit": "hours",
                     "one_of": [["hours", "days"]], "next": "hours"}  # fmt: skip
