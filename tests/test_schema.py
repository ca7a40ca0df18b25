"""`rules schema` agrees with the engine's own validation, record by record.

Every record is judged twice: by the engine and, as its JSON text, by the `jsonschema`
library against `Policy.schema()`. The one documented difference: a cross-field
`require` (listed under `x-constraints`) is checked by the engine alone.
"""

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.running.jsonout import dumps, loads
from engine.tools.cases import read_cases

POLICY = engine.load()
SCHEMA = POLICY.schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
GOLDEN = Path(__file__).parent / "golden"


def engine_verdict(record: object) -> str:
    """`valid`, `constraint` (only what JSON Schema cannot say failed) or `invalid`."""
    try:
        POLICY.evaluate(record)
    except engine.RecordError as error:
        beyond_places = "decimal places" in error.message
        return "constraint" if "must hold" in error.message or beyond_places else "invalid"
    return "valid"


def assert_agree(record: object) -> None:
    text = dumps(record)
    verdict = engine_verdict(loads(text))
    schema_ok = VALIDATOR.is_valid(json.loads(text))
    if verdict == "constraint":
        assert schema_ok, text
    else:
        assert schema_ok == (verdict == "valid"), (verdict, text)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    kinds = {k["properties"]["kind"]["enum"][0] for k in SCHEMA["oneOf"]}
    assert len(kinds) == 16 and "conference_paper" in kinds


def test_paper_fields_in_the_schema() -> None:
    paper = POLICY.schema("paper")
    assert paper["properties"]["authors"] == {
        "title": "作者人数",
        "type": "integer",
        "minimum": 1,
        "maximum": 10**15 - 1,
    }
    assert "全国统一刊号" in paper["properties"]["venue"]["enum"]
    assert paper["x-constraints"] == ["position <= authors"]
    assert paper["properties"]["year"] == {"type": "integer", "minimum": 1, "maximum": 2021}


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_records_agree(path: Path) -> None:
    for case in read_cases(path):
        for record in case.records:
            assert_agree(record)


def test_decimal_places_beyond_twelve_are_the_other_difference() -> None:
    record = {"year": 2021, "kind": "public_course", "hours": Decimal("0.0000000000001")}
    assert engine_verdict(record) == "constraint"
    assert VALIDATOR.is_valid({**record, "hours": 1e-13})


def test_cross_field_constraint_is_one_difference() -> None:
    record = {
        "year": 2021,
        "kind": "paper",
        "venue": "cn_serial",
        "words": 3000,
        "authors": 2,
        "position": 3,
    }
    assert engine_verdict(record) == "constraint"
    assert VALIDATOR.is_valid(record)


FIELDS = {name: spec for kind in POLICY.model.kinds.values() for name, spec in kind.fields.items()}
WORDS = sorted(
    {m.name for e in POLICY.model.symbols.enums.values() for m in e.members}
    | {m.label for e in POLICY.model.symbols.enums.values() for m in e.members if m.label}
)
KINDS = [*sorted(POLICY.model.kinds), "论文", "专著", "essay"]

scalars = st.one_of(
    st.integers(-3, 30),
    st.integers(),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-5, max_value=30),
    st.sampled_from(WORDS),
    st.text(max_size=5),
    st.just("2"),
    st.just([1]),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(KINDS))
    spec = POLICY.model.kinds.get(kind) or POLICY.model.kinds["paper"]
    record: dict[str, object] = {
        "kind": kind,
        "year": draw(st.sampled_from([2019, 2021, 2022, "2021"])),
    }
    for name in spec.fields:
        if draw(st.integers(0, 9)) == 0:
            continue
        record[name] = draw(scalars)
    if draw(st.booleans()):
        record[draw(st.sampled_from([*sorted(FIELDS), "id", "person"]))] = draw(scalars)
    return record


@given(records())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_records_agree(record: dict[str, object]) -> None:
    assert_agree(record)


@given(st.sampled_from(sorted(POLICY.model.kinds)), st.data())
@settings(max_examples=300, deadline=None)
def test_generated_valid_records_agree(kind: str, data: st.DataObject) -> None:
    """Mostly valid records: every field drawn from what it allows."""
    spec = POLICY.model.kinds[kind]
    record: dict[str, object] = {"kind": kind, "year": 2021}
    for name, field in spec.fields.items():
        if field.may_be_absent and data.draw(st.booleans()):
            continue
        if field.members:
            record[name] = data.draw(st.sampled_from(field.members))
        elif field.ty.base == "bool":
            record[name] = data.draw(st.booleans())
        elif field.ty.base == "int":
            record[name] = data.draw(st.integers(-1, 12))
        else:
            record[name] = data.draw(
                st.decimals(min_value=0, max_value=20, places=1) | st.just(Decimal(0))
            )
    assert_agree(record)
