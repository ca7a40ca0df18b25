"""Language features beyond the Binzhou policy, on `tests/programs/features.rules`."""

from decimal import Decimal
from pathlib import Path

import pytest

import engine

POLICY = engine.load(Path(__file__).parent / "programs" / "features.rules")
ITEM = {"year": 2020, "kind": "item", "size": "small", "colours": ["green"], "quantity": 2,
        "divisor": 0}  # fmt: skip


def test_sets_defaults_higher_and_decimal_tables() -> None:
    result = POLICY.evaluate(ITEM)
    # grow(small) = medium; weight[medium] = 2; 2 * 2 + 2.5
    assert result["amount"] == Decimal("6.5") and result["counted"] is True
    assert result["regime"] == "new" and result["unit"] == "points"
    assert {"step": "grow(small)", "cite": "函数", "value": "medium"} in result["trace"]


def test_set_membership_and_booleans() -> None:
    result = POLICY.evaluate({**ITEM, "colours": ["红", "blue"], "fragile": True})
    assert (result["counted"], result["reason"]) == (False, "excluded")


def test_ordered_max_and_floor() -> None:
    result = POLICY.evaluate({**ITEM, "size": "large", "quantity": 3, "fragile": True})
    # biggest = max(large, medium) = large >= medium: 3.25 * 3 + 2.5
    assert result["amount"] == Decimal("12.25")
    assert result["trace"][0] == {"step": "biggest = max(size, size.medium)", "cite": "新规则",
                                  "value": "large"}  # fmt: skip


def test_regime_specific_cites() -> None:
    result = POLICY.evaluate({**ITEM, "year": 2001})
    assert result["regime"] == "old" and result["trace"][-1]["cite"] == "旧规则"


def test_division_by_zero_is_an_evaluation_error_with_its_place() -> None:
    with pytest.raises(engine.RecordError) as caught:
        POLICY.evaluate({**ITEM, "note": "division"})
    assert caught.value.code == "evaluation_error"
    assert caught.value.message.endswith(
        "features.rules:42:34: `quantity / divisor`: division by zero"
    )
    (result,) = POLICY.evaluate_many([{**ITEM, "note": "division"}])
    assert result["error"]["code"] == "evaluation_error"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"colours": ["red", "red"]}, "colours",
         "`colours` must be a list of distinct members of: red (红), green (绿), blue (蓝); "
         "got a list"),
        ({"colours": "red"}, "colours", None),
        ({"quantity": 101}, "quantity", "`quantity` must be an integer >= 0 and <= 100; got 101"),
        ({"note": 5}, "note", "`note` must be a text; got 5"),
        ({"fragile": 1}, "fragile", "`fragile` must be true or false; got 1"),
    ],
)  # fmt: skip
def test_field_types(change: dict, field: str, message: str | None) -> None:
    with pytest.raises(engine.RecordError) as caught:
        POLICY.evaluate({**ITEM, **change})
    assert caught.value.field == field
    if message:
        assert caught.value.message == message


def test_schema_of_sets_and_defaults() -> None:
    props = POLICY.schema("item")["properties"]
    assert props["colours"] == {
        "title": "颜色",
        "type": "array",
        "uniqueItems": True,
        "items": {"enum": ["red", "green", "blue", "红", "绿", "蓝"]},
        "x-labels": {"red": "红", "green": "绿", "blue": "蓝"},
    }
    assert props["fragile"] == {"title": "易碎", "type": "boolean", "default": False}
    assert props["quantity"] == {"title": "数量", "type": "integer", "minimum": 0, "maximum": 100}
    year = POLICY.schema()["oneOf"][0]["properties"]["year"]
    assert year == {"type": "integer", "minimum": 1, "maximum": 9999}
