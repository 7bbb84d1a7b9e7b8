"""What a `label:` term asks of a change's votes, given the label's definition.

Gerrit reads `label:NAME<op>VALUE` against the label as the change's project
defines it: MAX and MIN are that label's highest and lowest values, a range is
the non-zero votes inside it, and 0 stands for "no non-zero vote" (votes of 0
are not votes). So `label:Code-Review>=0` is a vote of +1 or +2, or no vote at
all; `label:Code-Review=0,user=self` is "I have not voted". A label the
project does not define matches no vote, and a value outside the label's
values matches nothing rather than being an error.

Label definitions may differ between projects: `LabelScope` is one definition
and the projects that have it, so the database adapter can compile a term
once per distinct definition without knowing how projects are configured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lockgate.core.query import ast
from lockgate.core.review.labels import LabelType


@dataclass(frozen=True, slots=True)
class LabelScope:
    """One definition of a label and where it applies."""

    name: str  # the canonical name, as votes are stored
    min: int
    max: int
    projects: frozenset[str] | None  # None: every project


# Lower-case label name -> its definitions; a name absent here is defined nowhere.
LabelScopes = Mapping[str, tuple[LabelScope, ...]]


@dataclass(frozen=True, slots=True)
class VoteMatch:
    """The votes a label term matches under one definition: a non-zero vote in
    [low, high] (none when low > high), or, when `no_vote`, the absence of
    any non-zero vote (by the term's voters)."""

    low: int
    high: int
    no_vote: bool

    @property
    def any_vote(self) -> bool:
        return self.low <= self.high

    @property
    def never(self) -> bool:
        return not self.any_vote and not self.no_vote


def vote_match(term: ast.LabelTerm, minimum: int, maximum: int) -> VoteMatch:
    """The votes `term` matches on a label whose values run from `minimum` to `maximum`."""
    value = term.value
    if value is ast.LabelBound.ANY:
        return VoteMatch(minimum, maximum, no_vote=False)
    if value is ast.LabelBound.MAX:
        # A label without positive values has no MAX vote, as in Gerrit.
        return VoteMatch(maximum, maximum, False) if maximum > 0 else _NOTHING
    if value is ast.LabelBound.MIN:
        return VoteMatch(minimum, minimum, False) if minimum < 0 else _NOTHING
    low, high = _interval(term.comparison, value)
    no_vote = low <= 0 <= high
    low, high = max(low, minimum), min(high, maximum)
    if low > high or low == high == 0:  # no non-zero value is left
        return VoteMatch(1, 0, no_vote)
    return VoteMatch(low, high, no_vote)


_NOTHING = VoteMatch(1, 0, no_vote=False)
_UNBOUNDED = 2**31


def _interval(comparison: ast.Comparison, value: int) -> tuple[int, int]:
    if comparison is ast.Comparison.EQ:
        return value, value
    if comparison is ast.Comparison.GE:
        return value, _UNBOUNDED
    if comparison is ast.Comparison.GT:
        return value + 1, _UNBOUNDED
    if comparison is ast.Comparison.LE:
        return -_UNBOUNDED, value
    return -_UNBOUNDED, value - 1


def label_names(query: ast.Query | None) -> set[str]:
    """The lower-case label names the `label:` terms of `query` mention."""
    if isinstance(query, ast.LabelTerm):
        return {query.name.lower()}
    if isinstance(query, ast.And | ast.Or):
        return set().union(*(label_names(child) for child in query.children))
    if isinstance(query, ast.Not):
        return label_names(query.child)
    return set()


def label_scopes(
    names: Iterable[str], per_project: Mapping[str, Sequence[LabelType]]
) -> dict[str, tuple[LabelScope, ...]]:
    """The definitions of each label in `names` (lower case) over the projects of
    `per_project`, grouped so that projects defining a label alike share one
    scope; a label every project defines alike gets one scope for all."""
    scopes: dict[str, tuple[LabelScope, ...]] = {}
    for name in names:
        grouped: dict[tuple[str, int, int], set[str]] = defaultdict(set)
        for project, types in per_project.items():
            found = next((lt for lt in types if lt.name.lower() == name), None)
            if found is not None:
                grouped[(found.name, found.min, found.max)].add(project)
        everywhere = len(grouped) == 1 and sum(map(len, grouped.values())) == len(per_project)
        scopes[name] = tuple(
            LabelScope(label, low, high, None if everywhere else frozenset(projects))
            for (label, low, high), projects in sorted(grouped.items())
        )
    return scopes


def scopes_everywhere(types: Sequence[LabelType]) -> dict[str, tuple[LabelScope, ...]]:
    """Scopes for label types that every project has alike."""
    return {lt.name.lower(): (LabelScope(lt.name, lt.min, lt.max, None),) for lt in types}
