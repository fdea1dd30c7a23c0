"""Staff accounts as the console manages them: sign-in with throttling, roles, languages.

Hashing stays in ``booking.services.staff`` (argon2); this module adds what a web sign-in and
an admin page need around it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.formatting import LOCALES
from booking.services import staff
from booking.settings_store import secret_key
from booking.tables.channels import LoginAttempt
from booking.tables.staff import StaffUser

# Failed sign-ins counted over a sliding window, per email and per client address, in the
# database so that every web process shares the count.
WINDOW = timedelta(minutes=15)
MAX_PER_EMAIL = 5
MAX_PER_CLIENT = 30


@dataclass(frozen=True, slots=True)
class StaffAccount:
    id: int
    email: str
    name: str
    role: str
    language: str
    active: bool
    session_epoch: int
    created_at: datetime

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def actor(self) -> Actor:
        return Actor.staff(self.id, self.display_name)

    @property
    def version(self) -> str:
        parts = (self.email, self.name, self.role, self.language, self.active, self.session_epoch)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class LoginResult:
    account: StaffAccount | None
    throttled: bool = False


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(
        id=user.id or 0,
        email=user.email,
        name=user.name,
        role=user.role,
        language=user.language,
        active=user.active,
        session_epoch=user.session_epoch,
        created_at=user.created_at,
    )


def _keys(email: str, client: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()[:254]}", f"client:{client[:280]}"


async def login(ctx: Context, *, email: str, password: str, client: str) -> LoginResult:
    """Check the credentials unless this email or client failed too often lately.

    A throttled attempt is refused before the password is even checked, so guessing gains
    nothing; a success clears the email's failures (not the client's, which may be shared).
    """
    email_key, client_key = _keys(email, client)
    now = ctx.clock.now()

    async def throttled(session: AsyncSession) -> bool:
        for key, limit in ((email_key, MAX_PER_EMAIL), (client_key, MAX_PER_CLIENT)):
            query = (
                select(func.count())
                .select_from(LoginAttempt)
                .where(col(LoginAttempt.key) == key, col(LoginAttempt.at) > now - WINDOW)
            )
            if int((await session.execute(query)).scalar_one()) >= limit:
                return True
        return False

    if await ctx.db.read(throttled):
        return LoginResult(None, throttled=True)
    found = await staff.authenticate(ctx, email=email, password=password)

    async def remember(session: AsyncSession) -> StaffAccount | None:
        if found is None:
            await session.execute(
                delete(LoginAttempt).where(
                    col(LoginAttempt.key).in_((email_key, client_key)),
                    col(LoginAttempt.at) <= now - WINDOW,
                )
            )
            await session.execute(
                insert(LoginAttempt), [{"key": k, "at": now} for k in (email_key, client_key)]
            )
            return None
        await session.execute(delete(LoginAttempt).where(col(LoginAttempt.key) == email_key))
        user = await session.get(StaffUser, found.id)
        return _account(user) if user is not None else None

    return LoginResult(await ctx.db.write(remember))


async def session_secret(ctx: Context) -> str:
    """The key that signs console sessions: the instance's secret key."""
    return await secret_key(ctx)


async def get_account(ctx: Context, *, staff_id: int) -> StaffAccount | None:
    async def work(session: AsyncSession) -> StaffAccount | None:
        user = await session.get(StaffUser, staff_id)
        return _account(user) if user is not None else None

    return await ctx.db.read(work)


async def list_accounts(ctx: Context) -> list[StaffAccount]:
    async def work(session: AsyncSession) -> list[StaffAccount]:
        query = select(StaffUser).order_by(col(StaffUser.active).desc(), col(StaffUser.email))
        return [_account(u) for u in (await session.execute(query)).scalars()]

    return await ctx.db.read(work)


async def create_account(
    ctx: Context,
    *,
    actor: Actor,
    email: str,
    password: str,
    role: str,
    name: str = "",
    language: str = "en",
) -> StaffAccount:
    if language not in LOCALES:
        raise BookingError("bad_value", field="language")
    created = await staff.create_staff(
        ctx, actor=actor, email=email, password=password, role=role, name=name
    )

    async def work(session: AsyncSession) -> StaffAccount:
        user = await session.get(StaffUser, created.id)
        assert user is not None
        user.language = language
        return _account(user)

    return await ctx.db.write(work)


async def update_account(
    ctx: Context,
    *,
    actor: Actor,
    staff_id: int,
    expected: str,
    name: str,
    role: str,
    language: str,
    active: bool,
) -> StaffAccount:
    """Change an account. ``expected`` is the version the admin saw: a change meanwhile wins.

    The last active admin cannot be demoted or switched off (nobody could manage staff then);
    switching an account off ends its sessions at once.
    """
    if role not in staff.ROLES:
        raise BookingError("bad_value", field="role")
    if language not in LOCALES:
        raise BookingError("bad_value", field="language")

    async def work(session: AsyncSession) -> StaffAccount:
        user = await session.get(StaffUser, staff_id)
        if user is None:
            raise BookingError("unknown_item")
        if _account(user).version != expected:
            raise BookingError("changed_meanwhile")
        losing_admin = user.role == "admin" and user.active and (role != "admin" or not active)
        if losing_admin and await _other_admins(session, staff_id) == 0:
            raise BookingError("last_admin")
        if user.active and not active:
            user.session_epoch += 1
        user.name, user.role, user.language, user.active = (
            name.strip()[:200],
            role,
            language,
            active,
        )
        return _account(user)

    return await ctx.db.write(work)


async def set_password(ctx: Context, *, actor: Actor, staff_id: int, password: str) -> None:
    """A new password ends every session of the account (including a thief's)."""
    if len(password) < staff.MIN_PASSWORD:
        raise BookingError("weak_password", min=staff.MIN_PASSWORD)
    hashed = staff.hash_password(password)

    async def work(session: AsyncSession) -> None:
        result = await session.execute(
            update(StaffUser)
            .where(col(StaffUser.id) == staff_id)
            .values(password_hash=hashed, session_epoch=StaffUser.session_epoch + 1)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise BookingError("unknown_item")

    await ctx.db.write(work)


async def set_language(ctx: Context, *, actor: Actor, staff_id: int, language: str) -> None:
    if language not in LOCALES:
        raise BookingError("bad_value", field="language")

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(StaffUser).where(col(StaffUser.id) == staff_id).values(language=language)
        )

    await ctx.db.write(work)


async def _other_admins(session: AsyncSession, staff_id: int) -> int:
    query = (
        select(func.count())
        .select_from(StaffUser)
        .where(
            col(StaffUser.role) == "admin",
            col(StaffUser.active).is_(True),
            col(StaffUser.id) != staff_id,
        )
    )
    return int((await session.execute(query)).scalar_one())
