"""The ``guichet`` command (SPEC §10)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.schema import SchemaOutOfDate, check_schema, upgrade_sync
from booking.settings import CoreSettings
from console import runtime
from console.settings import ConfigurationError


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("alembic", "apscheduler"):  # their INFO lines drown what the operator needs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG: ticket secrets, reply
    # tokens. Never below INFO, whatever level the root logger is given.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    try:
        return int(args.run(args))
    except (SchemaOutOfDate, ConfigurationError) as exc:
        print(f"guichet: {exc}", file=sys.stderr)
        return 2
    except BookingError as exc:
        print(f"guichet: {exc.english()}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guichet", description="Guichet booking desk")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the configured roles in one process")
    serve.add_argument(
        "--role",
        action="append",
        choices=runtime.ROLES,
        help="run only this role (repeatable); default: every configured role",
    )
    serve.set_defaults(run=_serve)
    db = sub.add_parser("db", help="database schema").add_subparsers(
        required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply every migration").set_defaults(run=_upgrade)
    admin = sub.add_parser("admin", help="staff accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = admin.add_parser(
        "create", help="create a staff account (password from stdin or a prompt)"
    )
    create.add_argument("email")
    create.add_argument("--name", default="")
    create.add_argument("--role", default="admin", choices=("admin", "organizer", "box_office"))
    create.set_defaults(run=_admin_create)
    sub.add_parser("demo-data", help="load a demo catalogue (idempotent)").set_defaults(run=_demo)
    return parser


def _serve(args: argparse.Namespace) -> int:
    return asyncio.run(runtime.serve(set(args.role or runtime.ROLES)))


def _upgrade(args: argparse.Namespace) -> int:
    url = CoreSettings().database_url
    upgrade_sync(url)
    print("database schema is up to date")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise SystemExit("guichet: the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def _admin_create(args: argparse.Namespace) -> int:
    password = _read_password()
    from booking.services import staff

    async def run(ctx: Context) -> str:
        user = await staff.create_staff(
            ctx,
            actor=Actor.system("guichet admin create"),
            email=args.email,
            password=password,
            role=args.role,
            name=args.name,
        )
        return f"created {user.role} account {user.email}"

    print(asyncio.run(_with_context(run)))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from booking import demo

    async def run(ctx: Context) -> str:
        loaded = await demo.load(ctx)
        return "demo data loaded" if loaded else "demo data already present; nothing changed"

    print(asyncio.run(_with_context(run)))
    return 0


T = TypeVar("T")


async def _with_context(work: Callable[[Context], Awaitable[T]]) -> T:
    ctx = Context.create(CoreSettings())
    try:
        await check_schema(ctx.db)
        return await work(ctx)
    finally:
        await ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
