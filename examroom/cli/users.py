"""``examroom users add|passwd|disable``: accounts of administrators, supervisors, auditors and city inspectors."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    users = sub.add_parser("users", help="accounts of administrators, supervisors and auditors")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create an account (the password is read from standard input)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "supervisor", "auditor", "inspector"])
    add.add_argument("--name", default="", help="name shown on screens")
    add.add_argument("--scope", default="", help="for an auditor or a city inspector: the course they may see, or a city's courses separated by commas (empty: all)")
    add.add_argument("--database", required=True, help="database URL, e.g. sqlite:///course.sqlite3")
    add.set_defaults(run=run_add)
    passwd = users_sub.add_parser("passwd", help="set a new password (read from standard input); ends the "
                                                 "account's sessions")
    passwd.add_argument("username")
    passwd.add_argument("--database", required=True, help="database URL")
    passwd.set_defaults(run=run_passwd)
    disable = users_sub.add_parser("disable", help="the account can no longer sign in; ends its sessions")
    disable.add_argument("username")
    disable.add_argument("--database", required=True, help="database URL")
    disable.set_defaults(run=run_disable)


def _read_password() -> str:
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\n")


def _accounts(url: str):
    from examroom.accounts.users import Accounts
    from examroom.records.database import make_engine, session_factory, upgrade

    engine = make_engine(url)
    upgrade(engine)
    return Accounts(session_factory(engine))


def run_add(args) -> int:
    password = _read_password()
    account = _accounts(args.database).create(args.username, password, args.role, args.name, args.scope)
    print(f"created {account.role.value} {account.username}")
    return 0


def run_passwd(args) -> int:
    ended = _accounts(args.database).set_password(args.username, _read_password())
    print(f"new password for {args.username}; {ended} session(s) ended")
    return 0


def run_disable(args) -> int:
    ended = _accounts(args.database).disable(args.username)
    print(f"disabled {args.username}; {ended} session(s) ended")
    return 0
