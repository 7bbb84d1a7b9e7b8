"""Which label types apply to a project, and what its changes' votes add up to.

All-Projects defines Code-Review, Verified and Workflow as OpenStack runs
them; a project may add labels (review categories) or redefine inherited ones,
and its children inherit what it defines. The definitions are read once per
project and kept until a write changes them (services/project_config.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine

from lockgate.adapters.db.approval_store import current_votes, set_vote, votes_on
from lockgate.core.review.labels import (
    LabelType,
    SubmitRecord,
    Vote,
    copied_votes,
    submit_record,
)
from lockgate.core.review.model import Change
from lockgate.services.project_config import ProjectConfig
from lockgate.services.projects import ProjectService


class LabelConfig:
    def __init__(self, engine: Engine, projects: ProjectService, config: ProjectConfig) -> None:
        self.engine = engine
        self.projects = projects
        self._config = config

    def for_project(self, name: str) -> tuple[LabelType, ...]:
        """The label types of project `name`, in the order they are shown: those of
        All-Projects first, in their order, then each descendant's own, a label
        redefined lower down keeping the place of the one it replaces."""
        return tuple(d.label for d in self._config.chain(name).labels)

    def find(self, project: str, label: str) -> LabelType | None:
        """A label of the project by name, without regard to case, as Gerrit matches them."""
        wanted = label.lower()
        return next((lt for lt in self.for_project(project) if lt.name.lower() == wanted), None)

    def submit_records(
        self, conn: Connection, changes: Sequence[Change]
    ) -> dict[int, SubmitRecord]:
        """Whether each change may be submitted, from the votes on its current patch set."""
        votes = current_votes(conn, [c.number for c in changes])
        return {
            c.number: submit_record(self.for_project(c.project), votes.get(c.number, []))
            for c in changes
        }

    def copy_votes(
        self, conn: Connection, change: Change, *, prior: int, new: int, kind: str
    ) -> list[Vote]:
        """Carry the votes of patch set `prior` that the labels' copy rules keep for a
        new patch set `new` of change kind `kind` (REWORK, TRIVIAL_REBASE, ...)."""
        kept = copied_votes(
            self.for_project(change.project),
            votes_on(conn, change.number, prior),
            kind=kind,
            new_patch_set=new,
        )
        for vote in kept:
            set_vote(conn, change.number, vote, copied=True)
        return kept
