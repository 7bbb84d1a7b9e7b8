"""Who may do what to a project, a ref or a change.

Callers ask the question they mean (`check`, `require`, `check_change`,
`label_range`) per account and project. The answers come from the access
sections of the project and its parents up to All-Projects (Gerrit's
`project.config`, evaluated by `core/review/acl.py`), for the caller's groups:

- Anonymous Users and Registered Users, implied for everyone and every
  signed-in account; the stored groups the account is a member of;
- Project Owners (`global:Project-Owners`) for those holding `owner` on
  `refs/*` of the project, itself inherited;
- Change Owner (`global:Change-Owner`) for a change's owner, when the question
  is about that change.

Members of Administrators hold every permission. A change's owner may abandon,
restore, rebase it and edit its topic, hashtags and work-in-progress state
without a grant, as in Gerrit. Projects that are not ACTIVE permit reads only.

Each question resolves the caller's groups with one query; a caller asking many
(a change list rendering permitted labels) resolves them once with `caller()`
and passes the `Caller` wherever an account is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import account_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.git.repos import ZERO_SHA
from lockgate.core.review import acl
from lockgate.core.review.acl import Permission
from lockgate.core.review.model import Account, Change, Project, ProjectState
from lockgate.core.review.refs import FOR, HEADS, TAGS
from lockgate.services.accounts import ADMINISTRATORS, ANONYMOUS_USERS, REGISTERED_USERS
from lockgate.services.errors import Forbidden
from lockgate.services.labels import LabelConfig
from lockgate.services.project_config import ProjectConfig

ANONYMOUS_UUID = "global:Anonymous-Users"
REGISTERED_UUID = "global:Registered-Users"
CHANGE_OWNER_UUID = "global:Change-Owner"
PROJECT_OWNERS_UUID = "global:Project-Owners"
# Groups whose members the server knows without storing them.
SYSTEM_GROUPS = {
    ANONYMOUS_UUID: ANONYMOUS_USERS,
    REGISTERED_UUID: REGISTERED_USERS,
    CHANGE_OWNER_UUID: "Change Owner",
    PROJECT_OWNERS_UUID: "Project Owners",
}
ALL_REFS = "refs/*"

# What a change's owner may do to it without being granted the permission.
OWNER_PERMISSIONS = frozenset(
    {
        Permission.ABANDON,
        Permission.REBASE,
        Permission.EDIT_TOPIC_NAME,
        Permission.EDIT_HASHTAGS,
        Permission.TOGGLE_WIP_STATE,
        Permission.ADD_PATCH_SET,
        Permission.REMOVE_REVIEWER,
    }
)


@dataclass(eq=False)
class Caller:
    """An account with its groups resolved, for asking many questions at once."""

    account: Account | None
    groups: frozenset[str]
    admin: bool
    _answers: dict[tuple[object, ...], object] = field(default_factory=dict, repr=False)

    @property
    def active(self) -> bool:
        return self.account is None or not self.account.inactive

    @property
    def name(self) -> str:
        return self.account.username if self.account else "anonymous"


Who = Account | Caller | None


def _caller(account: Account, stored: list[tuple[str, str]]) -> Caller:
    """`account` with the stored groups it is in, given as (uuid, name)."""
    groups = {ANONYMOUS_UUID, REGISTERED_UUID, *(uuid for uuid, _ in stored)}
    admin = not account.inactive and any(name == ADMINISTRATORS for _, name in stored)
    return Caller(account, frozenset(groups), admin=admin)


class Permissions:
    def __init__(self, engine: Engine, config: ProjectConfig, labels: LabelConfig) -> None:
        self._engine = engine
        self._config = config
        self._labels = labels

    # --- who is asking --------------------------------------------------------

    def caller(self, who: Who, *, conn: Connection | None = None) -> Caller:
        """`who` with its group UUIDs, the implied ones included; read in `conn`
        when the caller has a transaction open."""
        if isinstance(who, Caller):
            return who
        if who is None:
            return Caller(None, frozenset({ANONYMOUS_UUID}), admin=False)
        if conn is not None:
            stored = account_store.groups_of(conn, who.id)
        else:
            with read_transaction(self._engine) as own:
                stored = account_store.groups_of(own, who.id)
        return _caller(who, [(g.uuid, g.name) for g in stored])

    def current_caller(self, account: Account, *, conn: Connection) -> Caller | None:
        """`account` as it is now in `conn`, with its groups, in one read: for a
        request signed in from the cache (`AccountService.sign_in`), whose
        account may have changed since; None when it no longer exists."""
        found = account_store.account_with_groups(conn, account.id)
        return None if found is None else _caller(*found)

    def _groups(self, caller: Caller, project: Project, *, change_owner: bool) -> frozenset[str]:
        groups = caller.groups
        if self.is_owner(caller, project):
            groups |= {PROJECT_OWNERS_UUID}
        if change_owner:
            groups |= {CHANGE_OWNER_UUID}
        return groups

    def _memo(
        self, caller: Caller, key: tuple[object, ...], compute: Callable[[], object]
    ) -> object:
        # A Caller lives for one request; its answers are kept per config generation.
        full = (self._config.generation, *key)
        if full not in caller._answers:
            caller._answers[full] = compute()
        return caller._answers[full]

    # --- the questions ------------------------------------------------------

    def check(
        self,
        account: Who,
        project: Project,
        permission: str,
        ref: str,
        *,
        force: bool = False,
        change_owner: bool = False,
    ) -> bool:
        """Whether `account` holds `permission` on `ref` of `project` (`force`: a
        forced update, which needs a rule marked force)."""
        caller = self.caller(account)
        if permission == Permission.READ:
            if project.state is ProjectState.HIDDEN and not caller.admin:
                return False
        elif project.state is not ProjectState.ACTIVE and permission != Permission.OWNER:
            return False
        return self._granted(
            caller, project, permission, ref, force=force, change_owner=change_owner
        )

    def _granted(
        self,
        account: Who,
        project: Project,
        permission: str,
        ref: str,
        *,
        force: bool = False,
        change_owner: bool = False,
    ) -> bool:
        """`check` without regard to the project's state: pushes ask `write_refusal`
        for that, to say why."""
        caller = self.caller(account)
        if not caller.active:
            return False
        if caller.admin:
            return True

        def compute() -> bool:
            groups = self._groups(caller, project, change_owner=change_owner)
            chain = self._config.chain(project.name).access
            return acl.is_allowed(chain, groups, permission, ref, force=force)

        key = ("check", project.name, permission, ref, force, change_owner)
        return bool(self._memo(caller, key, compute))

    def require(
        self, account: Who, project: Project, permission: str, ref: str, *, action: str
    ) -> None:
        """Refuse `action` (e.g. "abandon change 12") with 403 unless `check` allows it."""
        caller = self.caller(account)
        if not self.check(caller, project, permission, ref):
            raise Forbidden(
                f"{action} not permitted: {caller.name} lacks {permission} on {ref} of "
                f"{project.name}; ask an owner of {project.name} to grant it"
            )

    def check_change(self, account: Who, project: Project, change: Change, permission: str) -> bool:
        """`check` on the change's branch, with what its owner may do anyway."""
        caller = self.caller(account)
        owner = caller.account is not None and caller.account.id == change.owner_id
        if owner and caller.active and permission in OWNER_PERMISSIONS:
            return True
        return self.check(caller, project, permission, HEADS + change.branch, change_owner=owner)

    def require_change(
        self,
        account: Who,
        project: Project,
        change: Change,
        permission: str,
        *,
        action: str,
    ) -> None:
        caller = self.caller(account)
        if not self.check_change(caller, project, change, permission):
            raise Forbidden(
                f"{action} not permitted: {caller.name} lacks {permission} on change "
                f"{change.number} of {project.name}; only its owner or those granted "
                f"{permission} may"
            )

    def label_range(
        self,
        account: Who,
        project: Project,
        label: str,
        ref: str,
        *,
        change: Change | None = None,
    ) -> tuple[int, int] | None:
        """The values of `label` that `account` may vote on `ref`, or None for none.
        Pass the `change` voted on so that grants to Change Owner apply to its owner."""
        caller = self.caller(account)
        if caller.account is None or not caller.active:
            return None
        if project.state is not ProjectState.ACTIVE:
            return None
        found = self._labels.find(project.name, label)
        if found is None:
            return None
        if caller.admin:
            return found.min, found.max
        owner = change is not None and caller.account.id == change.owner_id

        def compute() -> tuple[int, int] | None:
            groups = self._groups(caller, project, change_owner=owner)
            chain = self._config.chain(project.name).access
            granted = acl.label_range(chain, groups, found.name, ref)
            if granted is None:
                return None
            # A grant wider than the label's values gives only the values.
            low, high = max(granted[0], found.min), min(granted[1], found.max)
            return (low, high) if low <= high else None

        key = ("label", project.name, found.name, ref, owner)
        answer = self._memo(caller, key, compute)
        return answer if isinstance(answer, tuple) else None

    def is_owner(self, account: Who, project: Project) -> bool:
        """Whether `account` owns the project: `owner` on refs/*, inherited from its
        parents too. Owners edit the project's access and labels."""
        caller = self.caller(account)
        if not caller.active:
            return False
        if caller.admin:
            return True

        def compute() -> bool:
            chain = self._config.chain(project.name).access
            return acl.is_allowed(chain, caller.groups, Permission.OWNER, ALL_REFS)

        return bool(self._memo(caller, ("owner", project.name), compute))

    def require_owner(self, account: Who, project: Project, *, action: str) -> None:
        caller = self.caller(account)
        if not self.is_owner(caller, project):
            raise Forbidden(
                f"{action} not permitted: only owners of {project.name} (owner on refs/*) "
                "and administrators may; ask one of them"
            )

    # --- pushes and reads -----------------------------------------------------

    def can_read(self, account: Who, project: Project) -> bool:
        return self.check(account, project, Permission.READ, ALL_REFS)

    def can_see_change(self, account: Who, project: Project, change: Change) -> bool:
        """Whether `account` may see `change` of `project` at all: it must read the
        project, and a private change is seen only by its owner, its reviewers and
        CCs, and administrators (as Gerrit's ChangeControl.isVisible)."""
        caller = self.caller(account)
        if not self.can_read(caller, project):
            return False
        if not change.private or caller.admin:
            return True
        viewer = caller.account
        return viewer is not None and viewer.id in (change.owner_id, *change.reviewers, *change.ccs)

    def write_refusal(self, project: Project) -> str | None:
        """Why the project takes no pushes at all, or None when it takes them."""
        if project.state is not ProjectState.ACTIVE:
            state = project.state.value
            return f"prohibited by Gerrit: project state {state} does not permit write"
        return None

    def can_upload(self, account: Who, project: Project, branch: str | None = None) -> bool:
        """Whether `account` may upload changes for review (`push` on refs/for/<ref>)."""
        target = HEADS + branch if branch else HEADS + "*"
        return account is not None and self._granted(
            account, project, Permission.PUSH, FOR + target
        )

    def can_upload_merges(self, account: Who, project: Project, branch: str | None = None) -> bool:
        target = HEADS + branch if branch else HEADS + "*"
        return account is not None and self._granted(
            account, project, Permission.PUSH_MERGE, FOR + target
        )

    def can_push_directly(self, account: Who, project: Project, ref: str) -> bool:
        """Whether a push may create, move or delete `ref` in some way, without review."""
        if not ref.startswith((HEADS, TAGS)):
            return False
        caller = self.caller(account)
        wanted = [Permission.PUSH, Permission.CREATE, Permission.DELETE]
        if ref.startswith(TAGS):
            wanted.append(Permission.CREATE_TAG)
        return any(self._granted(caller, project, p, ref) for p in wanted)

    def ref_update_refusal(
        self,
        account: Who,
        project: Project,
        ref: str,
        old: str,
        new: str,
        *,
        fast_forward: bool | None,
    ) -> str | None:
        """What of a direct push to a branch or tag `account` may not do, in Gerrit's
        words (`create`, `update`, `force update`, `delete`), or None when allowed.
        A branch is created with `create`, a tag with `createTag` or `create`; a
        fast-forward needs `push`, any other move `push` with force; deleting needs
        `delete` or `push` with force. A tag never moves without force."""
        caller = self.caller(account)
        if not ref.startswith((HEADS, TAGS)):
            return "push"
        if old == ZERO_SHA:
            creates = [Permission.CREATE]
            if ref.startswith(TAGS):
                creates.append(Permission.CREATE_TAG)
            allowed = any(self._granted(caller, project, p, ref) for p in creates)
            return None if allowed else "create"
        if new == ZERO_SHA:
            allowed = self._granted(caller, project, Permission.DELETE, ref) or self._granted(
                caller, project, Permission.PUSH, ref, force=True
            )
            return None if allowed else "delete"
        forced = ref.startswith(TAGS) or not fast_forward
        if self._granted(caller, project, Permission.PUSH, ref, force=forced):
            return None
        if forced and self._granted(caller, project, Permission.PUSH, ref):
            return "force update"
        return "update"
