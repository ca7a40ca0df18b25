"""The Python API of the contract: load, evaluate, evaluate_many, schema, errors."""

from decimal import Decimal

import pytest

import engine

POLICY = engine.load()
PAPER = {
    "id": "r7",
    "person": "p1",
    "year": 2021,
    "kind": "paper",
    "venue": "cn_serial",
    "words": 3000,
    "authors": 4,
    "position": 4,
}


def test_result_shape_of_the_contract() -> None:
    result = POLICY.evaluate(PAPER)
    assert {
        k: result[k]
        for k in ("id", "person", "year", "kind", "regime", "unit", "category", "amount", "counted")
    } == {
        "id": "r7",
        "person": "p1",
        "year": 2021,
        "kind": "paper",
        "regime": "hours",
        "unit": "hours",
        "category": "converted",
        "amount": 3,
        "counted": True,
    }
    assert result["policy"] == "binzhou" and result["version"] == POLICY.version


def test_trace_cites_and_ends_with_the_amount() -> None:
    trace = POLICY.evaluate(PAPER)["trace"]
    assert trace[0] == {
        "step": "journal_level[cn_serial]",
        "cite": "附件一(三)1",
        "value": "national",
    }
    assert {"step": "publications[national, paper]", "cite": "附件一(三)", "value": 15} in trace
    assert {"step": "share(15, 4, 4)", "cite": "附件一(三)", "value": 3} in trace
    assert trace[-1] == {
        "step": "amount share(total, authors, position)",
        "cite": "附件一(三)1",
        "value": 3,
    }


def test_credits_regime_cites_attachment_two() -> None:
    result = POLICY.evaluate({**PAPER, "year": 2019})
    assert result["regime"] == "credits" and result["unit"] == "credits"
    assert {step["cite"] for step in result["trace"]} == {"附件二(六)1", "附件二(六)"}


def test_exact_decimals() -> None:
    a = POLICY.evaluate({"year": 2021, "kind": "public_course", "hours": Decimal("0.1")})
    b = POLICY.evaluate({"year": 2021, "kind": "public_course", "hours": 0.2})
    assert a["amount"] + b["amount"] == Decimal("0.3")
    credits = POLICY.evaluate({"year": 2019, "kind": "professional_course", "hours": 12})
    assert credits["amount"] == Decimal("2.4") and isinstance(credits["amount"], Decimal)
    whole = POLICY.evaluate({"year": 2019, "kind": "professional_course", "hours": 10})
    assert whole["amount"] == 2 and type(whole["amount"]) is int


def test_not_counted_has_amount_zero_and_reason() -> None:
    result = POLICY.evaluate({**PAPER, "words": 999})
    assert (result["amount"], result["counted"], result["reason"]) == (0, False, "too_short")


def test_zero_share_is_counted() -> None:
    result = POLICY.evaluate(
        {
            "year": 2021,
            "kind": "abstract",
            "venue": "city_permit",
            "words": 1000,
            "authors": 3,
            "position": 2,
        }
    )
    assert (result["amount"], result["counted"]) == (0, True)
    assert "reason" not in result


def test_record_error_carries_code_and_field() -> None:
    with pytest.raises(engine.RecordError) as caught:
        POLICY.evaluate({**PAPER, "position": 5})
    assert caught.value.code == "invalid_record" and caught.value.field == "position"
    assert caught.value.message == (
        "`position <= authors` must hold, but position is 5, authors is 4: 作者位次不能超过作者人数"
    )


@pytest.mark.parametrize(
    ("record", "code", "field", "message"),
    [
        (
            {**PAPER, "authors": "4"},
            "invalid_record",
            "authors",
            '`authors` must be an integer >= 1; got "4" (a text)',
        ),
        (
            {**PAPER, "words": True},
            "invalid_record",
            "words",
            "`words` must be an integer >= 0; got true",
        ),
        (
            {**PAPER, "venue": "journal"},
            "invalid_record",
            "venue",
            "`venue` must be one of: cn_serial (全国统一刊号), "
            "provincial_permit (省内部资料准印证), city_permit (地市准印刊号), "
            'international (国外刊物), none (无刊号); got "journal" (a text)',
        ),
        ({**PAPER, "kind": "essay"}, "unknown_kind", "kind", None),
        (
            {**PAPER, "year": 2022},
            "no_policy_in_force",
            "year",
            "no rule of policy `binzhou` is in force for `year` 2022; it covers: credits ..2019, "
            "hours 2020..2021",
        ),
        (
            {"year": 2021, "kind": "book", "level": "international", "position": 1},
            "invalid_record",
            "level",
            "`level` must be one of: city (地市级), provincial (省部级), national (国家级); "
            'got "international" (a text)',
        ),
        (
            {"year": 2021, "kind": "professional_course"},
            "invalid_record",
            "hours",
            "exactly one of `hours`, `days` must be given; got none",
        ),
        (
            {"year": 2021, "kind": "degree"},
            "invalid_record",
            "passed",
            "`passed` is required for kind `degree`; it must be true or false",
        ),
        (
            {"year": 2021, "kind": "degree", "passed": True, "words": 3},
            "invalid_record",
            "words",
            "`words` is not a field of kind `degree`; "
            "its fields are: passed (and id, person, year, kind)",
        ),
        (
            {"year": 2021, "kind": "overseas", "months": 0},
            "invalid_record",
            "months",
            "`months` must be a number > 0; got 0",
        ),
    ],
)
def test_invalid_records(record: dict, code: str, field: str, message: str | None) -> None:
    with pytest.raises(engine.RecordError) as caught:
        POLICY.evaluate(record)
    assert (caught.value.code, caught.value.field) == (code, field)
    if message is not None:
        assert caught.value.message == message


def test_labels_accepted_canonical_names_returned() -> None:
    result = POLICY.evaluate(
        {"year": 2021, "kind": "成果奖项", "level": "国家级", "tier": "三等奖", "rank": 4}
    )
    assert result["kind"] == "award" and result["amount"] == 20


def test_evaluate_many_keeps_order_and_count() -> None:
    records = [PAPER, {"kind": "paper"}, 7, {**PAPER, "id": "r8", "position": 1}, None]
    results = list(POLICY.evaluate_many(records))
    assert [r["id"] for r in results] == ["r7", 2, 3, "r8", 5]
    assert [("error" in r) for r in results] == [False, True, True, False, True]
    assert results[2]["error"] == {
        "code": "invalid_record",
        "field": None,
        "message": "a record must be an object with `kind` and `year`; got 7",
    }


def test_evaluate_many_is_lazy() -> None:
    def endless():
        while True:
            yield PAPER

    stream = POLICY.evaluate_many(endless())
    assert [next(stream)["amount"] for _ in range(3)] == [3, 3, 3]


def test_default_id_is_the_position() -> None:
    results = list(POLICY.evaluate_many([{"year": 2021, "kind": "degree", "passed": True}] * 2))
    assert [r["id"] for r in results] == [1, 2]


def test_version_is_a_content_hash(tmp_path) -> None:
    source = engine.load().sources
    folder = tmp_path / "p"
    folder.mkdir()
    for name, text in source.items():
        (folder / name.rsplit("/", 1)[-1]).write_text(text, encoding="utf-8")
    assert engine.load(folder).version == POLICY.version
    params = folder / "params.rules"
    params.write_text(
        params.read_text(encoding="utf-8").replace("= 1000", "= 800"), encoding="utf-8"
    )
    changed = engine.load(folder)
    assert changed.version != POLICY.version
    record = {**PAPER, "words": 900}
    assert changed.evaluate(record)["amount"] == 3 and POLICY.evaluate(record)["counted"] is False


def test_policy_error_lists_every_diagnostic(tmp_path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text(
        'regime h { years 2020 unit h cite "x" }\ncategory c\n'
        "kind k { n: int }\nkind j { n: int }\n"
        'rule k { category c cite "x" amount m }\n',
        encoding="utf-8",
    )
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(bad)
    assert [d.code for d in caught.value.diagnostics] == ["missing-rule", "unknown-name"]


@pytest.mark.parametrize(
    ("record", "field", "shown"),
    [
        ({"kind": "overseas", "months": Decimal("1E+999999")}, "months", "1.000000E+999999"),
        ({"kind": "public_course", "hours": Decimal("1E-999999")}, "hours", "1.000000E-999999"),
        ({"kind": "public_course", "hours": Decimal("0.0000000000001")}, "hours", None),
        (
            {"kind": "self_study_exam", "subjects": 10**5000},
            "subjects",
            "an integer of 5001 digits",
        ),
        ({"kind": "overseas", "months": Decimal("NaN")}, "months", "NaN"),
        ({"kind": "overseas", "months": float("inf")}, "months", "inf"),
        ({"kind": "degree", "passed": True, "year": 10**5000}, "year", "an integer of 5001 digits"),
        ({"kind": "degree", "passed": True, "id": 10**5000}, "id", "an integer of 5001 digits"),
    ],
)
def test_numbers_beyond_the_limits_are_refused_at_once(record, field, shown) -> None:
    with pytest.raises(engine.RecordError) as caught:
        POLICY.evaluate({"year": 2019, **record})
    assert caught.value.field == field
    if shown is not None:
        assert shown in caught.value.message
    (result,) = POLICY.evaluate_many([{"year": 2019, **record}])
    assert result["error"]["field"] == field and result["id"] == 1


def test_the_largest_allowed_numbers_still_evaluate() -> None:
    result = POLICY.evaluate({"year": 2019, "kind": "overseas", "months": 99999999999999})
    assert result["amount"] == 40 + 5 * ((99999999999999 - 12) // 2)
    small = POLICY.evaluate({"year": 2021, "kind": "public_course",
                             "hours": Decimal("0.000000000001")})  # fmt: skip
    assert small["amount"] == Decimal("1E-12")


def test_a_policy_file_too_large_is_a_diagnostic(tmp_path) -> None:
    big = tmp_path / "big.rules"
    big.write_text("# " + "x" * (2 * 2**20) + "\n", encoding="utf-8")
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(big)
    assert [d.code for d in caught.value.diagnostics] == ["too-large"]


def test_ten_thousand_nested_operations_are_a_diagnostic_not_a_crash(tmp_path) -> None:
    deep = tmp_path / "deep.rules"
    body = "-" * 10_000 + "n"
    head = 'regime h { years 2020 unit h cite "x" }\ncategory c\nkind k { n: int }\n'
    deep.write_text(head + f'rule k {{ category c cite "x" amount {body} }}\n', encoding="utf-8")
    with pytest.raises(engine.PolicyError) as caught:
        engine.load(deep)
    assert [d.code for d in caught.value.diagnostics] == ["too-deep"]
