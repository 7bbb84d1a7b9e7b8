"""Who may do what to a project, a ref or a change.

Callers ask the question they mean (`check`, `require`, `check_change`,
`label_range`) per account and project. For now the answers are the rules of
a fresh site, fixed:

- anyone, signed in or not, reads projects that are not hidden;
- signed-in accounts upload changes (`refs/for/*`) to active projects, and
  vote Code-Review -1..+1;
- members of Service Users vote Verified -2..+2 and submit;
- a change's owner may abandon, restore, rebase it and edit its topic,
  hashtags and work-in-progress state;
- members of Administrators may do everything, and see hidden projects.

Access sections per project (Gerrit's `project.config`, `core/review/acl.py`)
replace the fixed rules behind the same questions.
"""

from __future__ import annotations

from lockgate.core.review.acl import Permission
from lockgate.core.review.model import Account, Change, Project, ProjectState
from lockgate.core.review.refs import FOR, HEADS, TAGS
from lockgate.services.accounts import SERVICE_USERS, AccountService
from lockgate.services.errors import Forbidden

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


class Permissions:
    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    # --- the questions ------------------------------------------------------

    def check(self, account: Account | None, project: Project, permission: str, ref: str) -> bool:
        """Whether `account` holds `permission` on `ref` of `project`."""
        if account is not None and account.inactive:
            return False
        if self._accounts.is_admin(account):
            return True
        if permission == Permission.READ:
            return project.state is not ProjectState.HIDDEN
        if account is None:
            return False
        groups = self._accounts.groups_of(account)
        if permission == Permission.PUSH:
            return ref.startswith(FOR)
        if permission == Permission.SUBMIT:
            return SERVICE_USERS in groups
        return False

    def require(
        self, account: Account | None, project: Project, permission: str, ref: str, *, action: str
    ) -> None:
        """Refuse `action` (e.g. "abandon change 12") with 403 unless `check` allows it."""
        if not self.check(account, project, permission, ref):
            who = account.username if account else "anonymous"
            raise Forbidden(
                f"{action} not permitted: {who} lacks {permission} on {ref} of {project.name}; "
                f"ask an owner of {project.name} to grant it"
            )

    def check_change(
        self, account: Account | None, project: Project, change: Change, permission: str
    ) -> bool:
        """`check` on the change's branch, with what its owner may do anyway."""
        if (
            account is not None
            and not account.inactive
            and account.id == change.owner_id
            and permission in OWNER_PERMISSIONS
        ):
            return True
        return self.check(account, project, permission, HEADS + change.branch)

    def require_change(
        self,
        account: Account | None,
        project: Project,
        change: Change,
        permission: str,
        *,
        action: str,
    ) -> None:
        if not self.check_change(account, project, change, permission):
            who = account.username if account else "anonymous"
            raise Forbidden(
                f"{action} not permitted: {who} lacks {permission} on change {change.number} "
                f"of {project.name}; only its owner or those granted {permission} may"
            )

    def label_range(
        self, account: Account | None, project: Project, label: str, ref: str
    ) -> tuple[int, int] | None:
        """The values of `label` that `account` may vote on `ref`, or None for none."""
        if account is None or account.inactive:
            return None
        if self._accounts.is_admin(account):
            return (-2, 2) if label in ("Code-Review", "Verified") else (-1, 1)
        groups = self._accounts.groups_of(account)
        if label == "Verified" and SERVICE_USERS in groups:
            return (-2, 2)
        if label == "Code-Review":
            return (-1, 1)
        return None

    # --- what part 1 asked, kept for its callers ------------------------------

    def can_read(self, account: Account | None, project: Project) -> bool:
        return self.check(account, project, Permission.READ, "refs/*")

    def write_refusal(self, project: Project) -> str | None:
        """Why the project takes no pushes at all, or None when it takes them."""
        if project.state is not ProjectState.ACTIVE:
            state = project.state.value
            return f"prohibited by Gerrit: project state {state} does not permit write"
        return None

    def can_upload(self, account: Account | None, project: Project) -> bool:
        return account is not None and self.check(account, project, Permission.PUSH, FOR + "*")

    def can_push_directly(self, account: Account | None, project: Project, ref: str) -> bool:
        """Whether a push may create, move or delete `ref` itself, without review."""
        if not ref.startswith((HEADS, TAGS)):
            return False
        return self._accounts.is_admin(account)

    def can_upload_merges(self, account: Account | None, project: Project) -> bool:
        return self._accounts.is_admin(account)
