"""Who may do what to a project. For now the rules of a fresh Gerrit site, fixed:

- anyone, signed in or not, reads projects that are not hidden;
- signed-in accounts upload changes (`refs/for/*`) to active projects;
- only members of Administrators push straight to branches and tags, upload
  merge commits, and see hidden projects.

Access sections per project (Gerrit's `project.config`) will replace the fixed
rules here; callers already ask the question they mean, per account and project.
"""

from __future__ import annotations

from lockgate.core.review.model import Account, Project, ProjectState
from lockgate.core.review.refs import HEADS, TAGS
from lockgate.services.accounts import AccountService


class Permissions:
    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    def can_read(self, account: Account | None, project: Project) -> bool:
        if project.state is ProjectState.HIDDEN:
            return self._accounts.is_admin(account)
        return True

    def write_refusal(self, project: Project) -> str | None:
        """Why the project takes no pushes at all, or None when it takes them."""
        if project.state is not ProjectState.ACTIVE:
            state = project.state.value
            return f"prohibited by Gerrit: project state {state} does not permit write"
        return None

    def can_upload(self, account: Account | None, project: Project) -> bool:
        return account is not None and not account.inactive

    def can_push_directly(self, account: Account | None, project: Project, ref: str) -> bool:
        """Whether a push may create, move or delete `ref` itself, without review."""
        if not ref.startswith((HEADS, TAGS)):
            return False
        return self._accounts.is_admin(account)

    def can_upload_merges(self, account: Account | None, project: Project) -> bool:
        return self._accounts.is_admin(account)
