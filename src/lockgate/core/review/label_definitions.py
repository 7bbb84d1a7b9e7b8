"""Label definitions as projects write them (Gerrit's LabelDefinitionInput): parsed,
checked, stored as JSON, and folded along the parent chain into the labels a
project's changes are voted on.

A project inherits every label of its parents; defining a label of the same name
(without regard to case) replaces the inherited one in its place, unless the
parent's says `can_override: false`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from lockgate.core.review.labels import DEFAULT_LABELS, LabelFunction, LabelType, format_value

# Gerrit's rule: letters, digits and '-', not starting with '-'.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_VALUE = re.compile(r"^[+-]?[0-9]{1,5}$")
# Values are Java shorts in Gerrit.
VALUE_LIMIT = 32767
RESERVED_NAMES = frozenset({"subm"})
FUNCTIONS = tuple(f.value for f in LabelFunction)

# LabelDefinitionInput flag -> LabelType field.
COPY_FLAGS = (
    "copy_min_score",
    "copy_max_score",
    "copy_all_scores_on_trivial_rebase",
    "copy_all_scores_if_no_code_change",
    "copy_all_scores_if_no_change",
)
# Fields Gerrit has that lockgate does not act on: accepted only at their default,
# so that a label never claims a behaviour it does not have.
UNSUPPORTED = {
    "branches": None,
    "copy_any_score": False,
    "copy_values": None,
    "copy_condition": None,
    "copy_all_scores_on_merge_first_parent_update": False,
    "ignore_self_approval": False,
    "allow_post_submit": True,
}


class LabelDefinitionError(ValueError):
    """An invalid label definition; the message names the field and the fix."""


@dataclass(frozen=True, slots=True)
class LabelDefinition:
    """A label as one project defines it."""

    project: str
    label: LabelType
    can_override: bool = True

    @property
    def name(self) -> str:
        return self.label.name


def label_name_problem(name: str) -> str | None:
    """None when `name` may name a label, else why not."""
    if not _NAME.match(name):
        return (
            f"invalid label name {name!r}: use letters, digits and '-', "
            "not starting with '-', e.g. Code-Review"
        )
    if name.lower() in RESERVED_NAMES:
        return f"label name {name!r} is reserved"
    return None


def parse_value(key: str) -> int:
    """A vote value as Gerrit writes it: `+1`, `1`, ` 0`, `-2`."""
    text = key.strip()
    if not _VALUE.match(text):
        raise LabelDefinitionError(
            f"invalid value {key!r}: write a whole number such as -1, 0 or +2"
        )
    value = int(text)
    if abs(value) > VALUE_LIMIT:
        raise LabelDefinitionError(f"value {key!r} is out of range -{VALUE_LIMIT}..+{VALUE_LIMIT}")
    return value


def parse_values(raw: object) -> dict[int, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise LabelDefinitionError(
            'values must be a non-empty object of value to text, e.g. {"-1": "No", " 0": '
            '"No score", "+1": "Yes"}'
        )
    values: dict[int, str] = {}
    for key, text in raw.items():
        value = parse_value(str(key))
        if value in values:
            raise LabelDefinitionError(f"value {format_value(value).strip()} is given twice")
        if not isinstance(text, str) or not text.strip():
            raise LabelDefinitionError(
                f'value {format_value(value).strip()} needs a description, e.g. "No score"'
            )
        values[value] = text.strip()
    return dict(sorted(values.items()))


def _flag(raw: Mapping[str, object], key: str) -> bool | None:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise LabelDefinitionError(f"{key} must be true or false, not {value!r}")


def build_definition(
    raw: Mapping[str, object],
    *,
    project: str,
    name: str,
    existing: LabelDefinition | None = None,
) -> LabelDefinition:
    """The definition that a LabelDefinitionInput `raw` makes of label `name` in
    `project`: a new label when `existing` is None, else `existing` with the fields
    `raw` sets changed (and renamed when `raw` names another name)."""
    for key, assumed in UNSUPPORTED.items():
        if key in raw and raw[key] != assumed and raw[key] != []:
            raise LabelDefinitionError(
                f"{key} is not supported by lockgate; leave it out "
                f"(lockgate acts as if it were {json.dumps(assumed)})"
            )
    wanted = raw.get("name")
    if wanted is not None and not isinstance(wanted, str):
        raise LabelDefinitionError(f"name must be a string, not {wanted!r}")
    new_name = (wanted or name).strip()
    if problem := label_name_problem(new_name):
        raise LabelDefinitionError(problem)
    if existing is None and "values" not in raw:
        raise LabelDefinitionError(
            f'label {new_name} needs values, e.g. {{"-1": "No", " 0": "No score"}}'
        )
    if "values" in raw or existing is None:
        values = parse_values(raw.get("values"))
    else:
        values = dict(existing.label.values)
    base = existing.label if existing is not None else LabelType(new_name, values)
    function = base.function
    if raw.get("function") is not None:
        try:
            function = LabelFunction(str(raw["function"]))
        except ValueError:
            raise LabelDefinitionError(
                f"function {raw['function']!r} is not one of {', '.join(FUNCTIONS)}"
            ) from None
    if raw.get("default_value") is not None:
        default = raw["default_value"]
        if isinstance(default, bool) or not isinstance(default, int):
            raise LabelDefinitionError(f"default_value must be a whole number, not {default!r}")
    else:
        default = base.default_value if base.default_value in values else 0
    if default not in values:
        shown = ", ".join(format_value(v).strip() for v in values)
        raise LabelDefinitionError(
            f"default_value {default} is not one of the label's values ({shown}); "
            "give default_value"
        )
    description = base.description
    if "description" in raw:
        given = raw["description"]
        if given is not None and not isinstance(given, str):
            raise LabelDefinitionError(f"description must be a string, not {given!r}")
        description = given.strip() or None if given else None
    flags = {key: value for key in COPY_FLAGS if (value := _flag(raw, key)) is not None}
    can_override = _flag(raw, "can_override")
    label = replace(
        base,
        name=new_name,
        values=values,
        function=function,
        default_value=default,
        description=description,
        **flags,
    )
    return LabelDefinition(
        project,
        label,
        existing.can_override if can_override is None and existing else can_override is not False,
    )


# --- storage --------------------------------------------------------------------


def definition_json(definition: LabelDefinition) -> str:
    label = definition.label
    data: dict[str, object] = {
        "function": label.function.value,
        "values": {str(v): text for v, text in sorted(label.values.items())},
        "default_value": label.default_value,
        "can_override": definition.can_override,
    }
    if label.description:
        data["description"] = label.description
    for key in COPY_FLAGS:
        data[key] = getattr(label, key)
    return json.dumps(data, sort_keys=True)


def definition_from_json(project: str, name: str, text: str) -> LabelDefinition:
    data = json.loads(text)
    flags = {key: bool(data[key]) for key in COPY_FLAGS if key in data}
    label = LabelType(
        name,
        {int(v): str(t) for v, t in data["values"].items()},
        function=LabelFunction(data.get("function", LabelFunction.MAX_WITH_BLOCK.value)),
        default_value=int(data.get("default_value", 0)),
        description=data.get("description"),
        **flags,
    )
    return LabelDefinition(project, label, bool(data.get("can_override", True)))


def default_definitions(project: str) -> tuple[LabelDefinition, ...]:
    """What All-Projects defines on a new site: Code-Review, Verified and Workflow."""
    return tuple(LabelDefinition(project, label) for label in DEFAULT_LABELS)


# --- inheritance -----------------------------------------------------------------


def effective_definitions(
    chain: Sequence[Sequence[LabelDefinition]],
) -> tuple[LabelDefinition, ...]:
    """The labels of a project whose ancestors' definitions `chain` lists from the
    root (All-Projects) to the project itself, each level in its own order."""
    found: dict[str, LabelDefinition] = {}
    for level in chain:
        for definition in level:
            key = definition.name.lower()
            held = found.get(key)
            if held is not None and not held.can_override:
                continue
            # Replacing a key keeps its place: an overridden label stays where
            # its parent put it.
            found[key] = definition
    return tuple(found.values())


def forbidding_override(inherited: Sequence[LabelDefinition], name: str) -> LabelDefinition | None:
    """The inherited definition that forbids redefining `name`, if there is one."""
    key = name.lower()
    return next((d for d in inherited if d.name.lower() == key and not d.can_override), None)
