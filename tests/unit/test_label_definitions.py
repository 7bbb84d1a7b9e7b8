"""Label definitions: parsing LabelDefinitionInput, storage round trips, and
how definitions fold along the parent chain."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.review.label_definitions import (
    VALUE_LIMIT,
    LabelDefinition,
    LabelDefinitionError,
    build_definition,
    default_definitions,
    definition_from_json,
    definition_json,
    effective_definitions,
    label_name_problem,
    parse_value,
    parse_values,
)
from lockgate.core.review.labels import CODE_REVIEW, LabelFunction, LabelType, format_value

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,20}", fullmatch=True).filter(
    lambda n: n.lower() != "subm"
)
values = st.dictionaries(
    st.integers(-VALUE_LIMIT, VALUE_LIMIT),
    st.text(min_size=1, max_size=20).map(str.strip).filter(bool),
    min_size=1,
    max_size=6,
)


@given(st.integers(-VALUE_LIMIT, VALUE_LIMIT))
def test_a_value_reads_back_from_how_gerrit_formats_it(value: int) -> None:
    assert parse_value(format_value(value)) == value
    assert parse_value(str(value)) == value


@given(st.text(max_size=8))
def test_any_value_key_is_a_number_or_a_named_error(key: str) -> None:
    try:
        value = parse_value(key)
    except LabelDefinitionError as error:
        assert "value" in str(error)
    else:
        assert abs(value) <= VALUE_LIMIT
        assert value == int(key.strip())


@given(names, values, st.sampled_from(list(LabelFunction)), st.booleans(), st.booleans())
def test_a_definition_survives_storage(
    name: str, given_values: dict[int, str], function: LabelFunction, copy_min: bool, lock: bool
) -> None:
    raw: dict[str, Any] = {
        "values": {format_value(v): text for v, text in given_values.items()},
        "function": function.value,
        "default_value": min(given_values),
        "copy_min_score": copy_min,
        "can_override": not lock,
    }
    built = build_definition(raw, project="nova", name=name)
    assert built.label.values == dict(sorted(given_values.items()))
    assert built.label.function is function
    assert built.label.copy_min_score is copy_min
    assert built.can_override is not lock
    assert definition_from_json("nova", name, definition_json(built)) == built


@given(names)
def test_valid_names_pass_and_the_reserved_one_does_not(name: str) -> None:
    assert label_name_problem(name) is None
    assert label_name_problem("-" + name) is not None
    assert label_name_problem(name + "_x") is not None
    assert label_name_problem("SUBM") is not None


def test_values_need_text_and_no_key_twice() -> None:
    with pytest.raises(LabelDefinitionError, match="needs a description"):
        parse_values({"+1": "  "})
    with pytest.raises(LabelDefinitionError, match="given twice"):
        parse_values({"+1": "a", "1": "b"})
    with pytest.raises(LabelDefinitionError, match="non-empty object"):
        parse_values([])
    assert parse_values({"+1": " Yes ", " 0": "No score"}) == {0: "No score", 1: "Yes"}


def test_an_update_changes_only_what_it_names() -> None:
    existing = LabelDefinition("All-Projects", CODE_REVIEW)
    updated = build_definition(
        {"function": "NoBlock", "description": "Reviews"},
        project="All-Projects",
        name="Code-Review",
        existing=existing,
    )
    assert updated.label.values == CODE_REVIEW.values
    assert updated.label.copy_min_score is True
    assert updated.label.function is LabelFunction.NO_BLOCK
    assert updated.label.description == "Reviews"
    narrowed = build_definition(
        {"values": {"+1": "Yes", "+2": "Sure"}, "default_value": 1},
        project="p",
        name="Code-Review",
        existing=existing,
    )
    assert narrowed.label.default_value == 1
    with pytest.raises(LabelDefinitionError, match="default_value 0 is not one of"):
        build_definition({"values": {"+1": "Yes"}}, project="p", name="X")
    with pytest.raises(LabelDefinitionError, match="not supported"):
        build_definition({"values": {"0": "x"}, "copy_any_score": True}, project="p", name="X")
    with pytest.raises(LabelDefinitionError, match="must be true or false"):
        build_definition({"values": {"0": "x"}, "copy_min_score": "yes"}, project="p", name="X")


def test_inheritance_keeps_places_and_respects_can_override() -> None:
    root = default_definitions("All-Projects")
    locked = LabelDefinition("openstack", LabelType("Legal", {0: "?", 1: "OK"}), can_override=False)
    child_verified = LabelDefinition("nova", LabelType("verified", {-1: "No", 0: "?", 1: "Yes"}))
    child_legal = LabelDefinition("nova", LabelType("Legal", {0: "?", 2: "OK"}))
    extra = LabelDefinition("nova", LabelType("Backport", {0: "?", 1: "Yes"}))

    folded = effective_definitions([root, [locked], [extra, child_verified, child_legal]])

    assert [d.name for d in folded] == ["Code-Review", "verified", "Workflow", "Legal", "Backport"]
    assert folded[1].project == "nova"
    assert folded[3] is locked
