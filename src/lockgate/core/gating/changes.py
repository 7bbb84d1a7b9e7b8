"""What the gating core knows of the review server's changes and refs.

The scheduler service builds these snapshots from the review database and
hands them to the core with every event; the core never reads anything else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Approval:
    label: str
    value: int
    username: str
    email: str
    granted_on: float  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class Change:
    """One patch set of a change, as it stands when the snapshot is taken."""

    project: str
    branch: str
    number: int
    patchset: int
    commit: str  # sha of the patch set
    ref: str  # refs/changes/NN/N/P
    url: str  # the change's web address
    owner: str  # username
    subject: str
    message: str  # the full commit message
    status: str = "NEW"  # NEW, MERGED, ABANDONED
    is_current: bool = True  # this patch set is the change's latest
    wip: bool = False
    topic: str = ""
    hashtags: tuple[str, ...] = ()
    approvals: tuple[Approval, ...] = ()  # current votes on the current patch set
    files: tuple[str, ...] = ()  # paths the patch set changes against its parent
    # changes this one needs, as "N,P" keys of their current patch sets: the git
    # parent when it is not merged, then Depends-On, in footer order
    needs: tuple[str, ...] = ()
    # Depends-On footers that name nothing this server knows, verbatim
    unresolved_needs: tuple[str, ...] = ()
    # whether the review server would submit it now if asked (every blocking
    # label satisfied); the gate's `canMerge`
    submittable: bool = False
    # the blocking labels that keep it from being submittable now (needed or
    # vetoed); the gate may still take it when it votes those labels itself
    missing_labels: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.number},{self.patchset}"

    def can_merge(self, own_labels: frozenset[str]) -> bool:
        """Zuul's `canMerge`: open, current and submittable but for labels in
        `own_labels`, those the pipeline's reporters set themselves."""
        if not self.is_open or not self.is_current or self.wip:
            return False
        if self.submittable:
            return True
        # not submittable for no label's sake (a submit rule): nothing the gate can vote fixes it
        return bool(self.missing_labels) and set(self.missing_labels) <= own_labels

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"

    def approval(self, label: str) -> int:
        """The decisive value of `label`: the lowest if any is negative, else the
        highest; 0 when nobody voted."""
        values = [a.value for a in self.approvals if a.label == label]
        if not values:
            return 0
        low = min(values)
        return low if low < 0 else max(values)


@dataclass(frozen=True, slots=True)
class Ref:
    """A ref update that is not a change: a merged commit, a tag, a timer's tip."""

    project: str
    ref: str  # refs/heads/master, refs/tags/1.0
    oldrev: str  # 40 zeros when created
    newrev: str  # 40 zeros when deleted
    url: str = ""

    @property
    def key(self) -> str:
        return f"{self.ref}:{self.newrev[:12]}"

    @property
    def branch(self) -> str:
        return self.ref.removeprefix("refs/heads/")

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")


Subject = Change | Ref
