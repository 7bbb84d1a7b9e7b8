"""Who may administer accounts, groups and projects (issue 2's fixed rules):

- creating accounts, groups and projects is for members of Administrators;
- an account may change its own HTTP password; Administrators anyone's;
- a group's members are managed by Administrators and by the members of the
  group that owns it (the group itself when it names no owner, as in Gerrit);
  the built-in groups only by Administrators.

Access sections per project will refine these; callers ask the question they mean.
"""

from __future__ import annotations

from lockgate.core.review.model import Account, Group
from lockgate.services.accounts import BUILT_IN_GROUPS, AccountService
from lockgate.services.errors import Forbidden


def require_admin(accounts: AccountService, caller: Account, action: str) -> None:
    """Refuse `action` (e.g. "create account") unless `caller` is an administrator."""
    if not accounts.is_admin(caller):
        raise Forbidden(
            f"{action} not permitted: only members of Administrators may {action}; "
            "ask an administrator"
        )


def require_password_change(accounts: AccountService, caller: Account, target: Account) -> None:
    if caller.id != target.id and not accounts.is_admin(caller):
        raise Forbidden(
            f"not permitted to change the HTTP password of {target.username}: "
            "accounts change only their own (use /a/accounts/self/password.http)"
        )


def can_see_group(accounts: AccountService, viewer: Account | None, group: Group) -> bool:
    """Groups not visible to all are shown to administrators and their members."""
    if group.visible_to_all or accounts.is_admin(viewer):
        return True
    return viewer is not None and any(m.id == viewer.id for m in accounts.members(group))


def may_manage_members(accounts: AccountService, caller: Account | None, group: Group) -> bool:
    """Whether `caller` may add and remove members of `group`."""
    if caller is None:
        return False
    if accounts.is_admin(caller):
        return True
    if group.name in BUILT_IN_GROUPS:
        return False
    owner = accounts.group(group.owner_uuid) if group.owner_uuid else group
    return any(member.id == caller.id for member in accounts.members(owner))


def require_group_owner(accounts: AccountService, caller: Account, group: Group) -> None:
    if may_manage_members(accounts, caller, group):
        return
    raise Forbidden(
        f"not permitted to change the members of group {group.name}: only Administrators "
        "and members of the owning group may"
    )
