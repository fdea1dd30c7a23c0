"""Key/value settings kept in the database (shared by every process), and the secret key rule.

The secret key signs everything a stranger could forge: console cookies, pay links, reply
tokens. Behind an https ``PUBLIC_URL`` (a real deployment) it must come from
``GUICHET_SECRET_KEY``, at least 32 bytes, so that it lives with the other secrets and not in
plain text in the database and its backups. For local runs a key is generated once and kept in
the database, and ``guichet serve`` says so.
"""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.settings import CoreSettings
from booking.tables.staff import Setting

MIN_SECRET_BYTES = 32
GENERATED_NOTICE = (
    "using a generated secret key kept in the database; set GUICHET_SECRET_KEY (at least "
    f"{MIN_SECRET_BYTES} bytes, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`) to keep it out of the "
    "database; it is required behind an https GUICHET_PUBLIC_URL"
)


class SecretKeyRequired(Exception):
    """Behind https the secret key must be set (and long enough) in GUICHET_SECRET_KEY."""


def secret_key_problem(settings: CoreSettings) -> str:
    """Why this configuration's secret key is not good enough to serve, or "" when it is."""
    if not settings.public_url.startswith("https://"):
        return ""
    if not settings.secret_key:
        return (
            "GUICHET_PUBLIC_URL is https, so GUICHET_SECRET_KEY must be set (at least "
            f"{MIN_SECRET_BYTES} bytes); a key generated and kept in the database is only "
            "for local runs"
        )
    size = len(settings.secret_key.encode())
    if size < MIN_SECRET_BYTES:
        return (
            f"GUICHET_SECRET_KEY is {size} bytes long; behind an https GUICHET_PUBLIC_URL it "
            f"must be at least {MIN_SECRET_BYTES} bytes"
        )
    return ""


async def secret_key(ctx: Context) -> str:
    """GUICHET_SECRET_KEY, or (local runs only) one generated once and kept in the database."""
    if ctx.settings.secret_key:
        return ctx.settings.secret_key
    problem = secret_key_problem(ctx.settings)
    if problem:  # never generate a key for a public deployment, whoever asks
        raise SecretKeyRequired(problem)

    async def work(session: AsyncSession) -> str:
        row = await session.get(Setting, "secret_key")
        if row is None:
            row = Setting(key="secret_key", value=secrets.token_urlsafe(48))
            session.add(row)
        return row.value

    # Kept on the context: pay links and replies ask for it often, and it never changes.
    ctx.settings.secret_key = await ctx.db.write(work)
    return ctx.settings.secret_key
