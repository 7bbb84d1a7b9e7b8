"""Administration from the command line: accounts, groups and projects."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lockgate.services.bootstrap import open_site
from lockgate.services.errors import ServiceError


def register(commands: Any) -> None:
    account = commands.add_parser("account", help="manage accounts")
    acts = account.add_subparsers(metavar="ACTION")
    create = acts.add_parser("create", help="create an account and print its HTTP password")
    create.add_argument("username")
    create.add_argument("--site", type=Path, default=Path("site"))
    create.add_argument("--name", help="full name")
    create.add_argument("--email")
    create.add_argument("--group", action="append", default=[], help="add to this group")
    create.set_defaults(run=_account_create)

    group = commands.add_parser("group", help="manage groups")
    gacts = group.add_subparsers(metavar="ACTION")
    gcreate = gacts.add_parser("create", help="create a group")
    gcreate.add_argument("name")
    gcreate.add_argument("--site", type=Path, default=Path("site"))
    gcreate.add_argument("--description")
    gcreate.set_defaults(run=_group_create)
    gadd = gacts.add_parser("add-member", help="add an account to a group")
    gadd.add_argument("group")
    gadd.add_argument("account")
    gadd.add_argument("--site", type=Path, default=Path("site"))
    gadd.set_defaults(run=_group_add)

    project = commands.add_parser("project", help="manage projects")
    pacts = project.add_subparsers(metavar="ACTION")
    pcreate = pacts.add_parser("create", help="create a project and its repository")
    pcreate.add_argument("name")
    pcreate.add_argument("--site", type=Path, default=Path("site"))
    pcreate.add_argument("--description")
    pcreate.add_argument("--parent", default="All-Projects")
    pcreate.add_argument(
        "--empty-commit", action="store_true", help="start master with an empty commit"
    )
    pcreate.add_argument(
        "--branch", action="append", default=[], help="initial branch (repeatable)"
    )
    pcreate.add_argument("--submit-type")
    pcreate.set_defaults(run=_project_create)
    plist = pacts.add_parser("list", help="list projects")
    plist.add_argument("--site", type=Path, default=Path("site"))
    plist.set_defaults(run=_project_list)


def _fail(error: ServiceError) -> int:
    print(f"lockgate: {error}")
    return 1


def _account_create(args: argparse.Namespace) -> int:
    services = open_site(args.site)
    try:
        account = services.accounts.create_account(
            args.username, full_name=args.name, email=args.email, groups=args.group
        )
        password = services.accounts.set_http_password(account, generate=True)
    except ServiceError as error:
        return _fail(error)
    print(f"account {account.username} (id {account.id})")
    print(f"HTTP password: {password}")
    return 0


def _group_create(args: argparse.Namespace) -> int:
    services = open_site(args.site)
    try:
        group = services.accounts.create_group(args.name, description=args.description)
    except ServiceError as error:
        return _fail(error)
    print(f"group {group.name} ({group.uuid})")
    return 0


def _group_add(args: argparse.Namespace) -> int:
    services = open_site(args.site)
    try:
        group = services.accounts.group(args.group)
        account = services.accounts.get(args.account)
        services.accounts.add_member(group, account)
    except ServiceError as error:
        return _fail(error)
    print(f"{account.username} is a member of {group.name}")
    return 0


def _project_create(args: argparse.Namespace) -> int:
    services = open_site(args.site)
    try:
        project = services.projects.create(
            args.name,
            parent=args.parent,
            description=args.description,
            create_empty_commit=args.empty_commit,
            branches=args.branch or None,
            submit_type=args.submit_type,
        )
    except ServiceError as error:
        return _fail(error)
    print(f"project {project.name}: clone with git clone {services.public_url}{project.name}")
    return 0


def _project_list(args: argparse.Namespace) -> int:
    services = open_site(args.site)
    for project in services.projects.all():
        print(project.name)
    return 0
