"""Submit requirements as Gerrit renders the legacy ones its label functions make.

Each blocking label is one requirement, with the search expression its
function stands for (`label:Code-Review=MAX -label:Code-Review=MIN` for
MaxWithBlock) and which of the expression's atoms hold for the change's votes,
so that a client can tell why a change is or is not submittable.
"""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.core.review.labels import LabelResult, LabelType, SubmitRecord


@dataclass(frozen=True, slots=True)
class RequirementResult:
    name: str
    description: str | None
    satisfied: bool
    expression: str
    passing_atoms: tuple[str, ...]
    failing_atoms: tuple[str, ...]


def _atoms(label: LabelType) -> list[tuple[str, bool]]:
    """(atom, negated) of the label function's expression."""
    name = label.name
    atoms: list[tuple[str, bool]] = []
    if label.function.needs_max:
        atoms.append((f"label:{name}=MAX", False))
    if label.function.blocks_on_min:
        atoms.append((f"label:{name}=MIN", True))
    return atoms


def requirement(result: LabelResult) -> RequirementResult:
    label = result.label
    atoms = _atoms(label)
    holds = {
        f"label:{label.name}=MAX": result.approved_by is not None,
        f"label:{label.name}=MIN": result.rejected_by is not None,
    }
    expression = " ".join(("-" if negated else "") + atom for atom, negated in atoms)
    return RequirementResult(
        name=label.name,
        description=label.description,
        satisfied=result.satisfied,
        expression=expression,
        passing_atoms=tuple(atom for atom, _ in atoms if holds[atom]),
        failing_atoms=tuple(atom for atom, _ in atoms if not holds[atom]),
    )


def legacy_requirements(record: SubmitRecord) -> list[RequirementResult]:
    """One requirement per blocking label, in the labels' order."""
    return [requirement(r) for r in record.labels if r.label.function.blocking]


def is_submittable(record: SubmitRecord, *, open: bool, work_in_progress: bool) -> bool:
    """Whether the change may be submitted now: open, ready for review, every
    blocking label satisfied."""
    return open and not work_in_progress and record.submittable
