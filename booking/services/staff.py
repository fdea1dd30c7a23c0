"""Organizer staff accounts: argon2 password hashes, roles."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services.customers import email_key
from booking.tables.staff import StaffUser

ROLES = ("admin", "organizer", "box_office")
MIN_PASSWORD = 10
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class StaffView:
    id: int
    email: str
    name: str
    role: str

    def actor(self) -> Actor:
        return Actor.staff(self.id, self.name or self.email)


def hash_password(password: str) -> str:
    """An argon2 hash; call it outside any transaction (it is slow on purpose)."""
    return _hasher.hash(password)


def _view(user: StaffUser) -> StaffView:
    return StaffView(user.id or 0, user.email, user.name, user.role)


async def create_staff(
    ctx: Context, *, actor: Actor, email: str, password: str, role: str = "admin", name: str = ""
) -> StaffView:
    key = email_key(email)
    if role not in ROLES:
        raise BookingError("bad_value", field="role")
    if len(password) < MIN_PASSWORD:
        raise BookingError("weak_password", min=MIN_PASSWORD)
    hashed = _hasher.hash(password)  # hashed before the transaction: argon2 is slow on purpose

    async def work(session: AsyncSession) -> StaffView:
        found = await session.execute(select(col(StaffUser.id)).where(col(StaffUser.email) == key))
        if found.first() is not None:
            raise BookingError("email_taken")
        user = StaffUser(
            email=key,
            name=name.strip(),
            password_hash=hashed,
            role=role,
            created_at=ctx.clock.now(),
        )
        session.add(user)
        await session.flush()
        return _view(user)

    return await ctx.db.write(work)


async def authenticate(ctx: Context, *, email: str, password: str) -> StaffView | None:
    """The active staff member with these credentials, or None (same answer for any failure)."""
    key = email.strip().lower()

    async def work(session: AsyncSession) -> StaffUser | None:
        query = select(StaffUser).where(
            col(StaffUser.email) == key, col(StaffUser.active).is_(True)
        )
        return (await session.execute(query)).scalar_one_or_none()

    user = await ctx.db.read(work)
    try:
        _hasher.verify(user.password_hash if user else _dummy(), password)
    except (VerificationError, InvalidHashError):
        return None
    return _view(user) if user else None


@cache
def _dummy() -> str:
    """Verifying against a dummy hash when the email is unknown keeps the timing the same."""
    return _hasher.hash("not a real password")
