"""Projects: their records and their bare repositories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from lockgate.adapters.db import access_store
from lockgate.adapters.db import project_store as store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.git.repos import (
    EMPTY_TREE,
    ZERO_SHA,
    GitError,
    InvalidProjectName,
    RepoStore,
    check_project_name,
)
from lockgate.core.review.acl import AccessSection, Permission, PermissionRules, Rule
from lockgate.core.review.model import (
    ALL_PROJECTS,
    ALL_USERS,
    Account,
    Person,
    Project,
    SubmitType,
)
from lockgate.core.review.refs import HEADS, branch_ref
from lockgate.services.clock import Clock
from lockgate.services.errors import BadRequest, Conflict, NotFound


@dataclass(frozen=True, slots=True)
class Branch:
    ref: str
    revision: str


class ProjectService:
    def __init__(self, engine: Engine, repos: RepoStore, clock: Clock) -> None:
        self._engine = engine
        self.repos = repos
        self._clock = clock
        self._names: tuple[tuple[int, int | None], tuple[str, ...]] | None = None

    def ensure_system_projects(self) -> None:
        for name, description in (
            (ALL_PROJECTS, "Access inherited by all other projects."),
            (ALL_USERS, "Individual user settings and preferences."),
        ):
            if self.find(name) is None:
                self.create(name, parent=None, description=description)

    def create(
        self,
        name: str,
        *,
        parent: str | None = ALL_PROJECTS,
        description: str | None = None,
        create_empty_commit: bool = False,
        branches: list[str] | None = None,
        submit_type: str | None = None,
        creator: Account | None = None,
        owners: list[str] | None = None,
    ) -> Project:
        """Create the project and its repository; `owners` are the UUIDs of the groups
        granted `owner` on refs/* of it (they edit its access and labels)."""
        name = name.strip("/")
        if name.endswith(".git"):
            name = name[: -len(".git")]
        try:
            check_project_name(name)
        except InvalidProjectName as error:
            raise BadRequest(str(error)) from error
        try:
            kind = SubmitType(submit_type) if submit_type else SubmitType.MERGE_IF_NECESSARY
        except ValueError as error:
            choices = ", ".join(s.value for s in SubmitType)
            raise BadRequest(f"submit_type {submit_type} is not one of {choices}") from error
        if parent is not None and parent != name and self.find(parent) is None:
            raise BadRequest(f"parent project {parent} not found")
        wanted = [b[len(HEADS) :] if b.startswith(HEADS) else b for b in branches or ["master"]]
        head = wanted[0]
        if self.repos.exists(name):
            raise Conflict(f"Project already exists: {name}")
        now = self._clock()
        try:
            with write_transaction(self._engine) as conn:
                project = store.insert_project(
                    conn,
                    name=name,
                    parent=parent,
                    description=description,
                    submit_type=kind,
                    now=now,
                )
                if owners:
                    owned = PermissionRules(tuple(Rule(uuid) for uuid in dict.fromkeys(owners)))
                    section = AccessSection("refs/*", {Permission.OWNER.value: owned})
                    access_store.replace_access(conn, name, [section])
                # The repository is made inside the transaction: if git fails,
                # no project row is left pointing at nothing.
                self.repos.create(name, head_branch=head)
                if create_empty_commit:
                    who = Person(
                        creator.full_name or creator.username if creator else "lockgate",
                        (creator.email or f"{creator.username}@localhost")
                        if creator
                        else "lockgate@localhost",
                        now // 1_000_000,
                        0,
                    )
                    commit = self.repos.create_commit(
                        name,
                        tree=EMPTY_TREE,
                        parents=[],
                        message="Initial empty repository\n",
                        author=who,
                    )
                    for branch in wanted:
                        self.repos.update_ref(name, branch_ref(branch), commit, ZERO_SHA)
                    self.repos.write_commit_graph(name)
        except IntegrityError as error:
            raise Conflict(f"Project already exists: {name}") from error
        except GitError as error:
            raise Conflict(f"could not create the repository of {name}: {error}") from error
        return project

    def find(self, name: str) -> Project | None:
        name = name[:-4] if name.endswith(".git") else name
        with read_transaction(self._engine) as conn:
            return store.project_by_name(conn, name)

    def get(self, name: str) -> Project:
        found = self.find(name)
        if found is None:
            raise NotFound(f"Not found: {name}")
        return found

    def all(self) -> list[Project]:
        with read_transaction(self._engine) as conn:
            return store.all_projects(conn)

    def names(self) -> tuple[str, ...]:
        """Every project's name, sorted, as of now, whoever added it (another
        process too). Asked with every scheduler step: the names are read again
        only when a project was added, which one aggregate query tells."""
        with read_transaction(self._engine) as conn:
            stamp = store.names_stamp(conn)
            known = self._names
            if known is not None and known[0] == stamp:
                return known[1]
            # sorted here: PostgreSQL's collation may order them otherwise
            names = tuple(sorted(store.project_names(conn)))
        self._names = (stamp, names)  # one assignment: no lock needed
        return names

    def branches(self, name: str) -> list[Branch]:
        project = self.get(name)
        refs = self.repos.refs(project.name, "refs/heads/", "refs/meta/config")
        head = self.head(project.name)
        result = []
        if head in refs:
            result.append(Branch("HEAD", head[len(HEADS) :] if head.startswith(HEADS) else head))
        result += [Branch(ref, sha) for ref, sha in sorted(refs.items())]
        return result

    def branch_tip(self, name: str, branch: str) -> str | None:
        return self.repos.refs(name, branch_ref(branch)).get(branch_ref(branch))

    def head(self, name: str) -> str:
        try:
            return self.repos.head(name)
        except GitError:
            return "refs/heads/master"
