"""Organizer staff accounts: argon2 password hashes, roles.

argon2 is slow on purpose (about 0.3 s of CPU here, on four lanes), so every hash and verify
runs in a worker thread (argon2-cffi releases the GIL): a burst of sign-ins must not stall the
event loop that serves every other request. The threads are a small pool of their own, not
asyncio's default one: with six hashes at once on a two-core machine the loop got so little CPU
that /healthz took over 300 ms; one hash at a time per two cores leaves the loop a core.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

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

ROLES = ("admin", "organizer", "box_office", "door")
MIN_PASSWORD = 10
HASH_THREADS = max(1, (os.cpu_count() or 1) // 2)
_hasher = PasswordHasher()
T = TypeVar("T")


HASH_NICENESS = 10  # how much lower than the event loop's the hashing threads' CPU priority is


@cache
def _hash_pool() -> ThreadPoolExecutor:
    """Made on first use (nothing is built at import time) and shared by every event loop."""
    return ThreadPoolExecutor(
        max_workers=HASH_THREADS, thread_name_prefix="argon2", initializer=_lower_priority
    )


def _lower_priority() -> None:
    """On Linux a thread has its own nice value, inherited by the threads argon2 starts for its
    lanes: under load the scheduler then serves the event loop first and hashes with the rest."""
    # Not Linux, or not allowed: the bounded pool remains.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


async def _off_loop(work: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool(), work, *args)


@dataclass(frozen=True, slots=True)
class StaffView:
    id: int
    email: str
    name: str
    role: str

    def actor(self) -> Actor:
        return Actor.staff(self.id, self.name or self.email)


def hash_password(password: str) -> str:
    """An argon2 hash, on the calling thread (scripts, benchmarks); services await
    ``hash_off_loop`` instead."""
    return _hasher.hash(password)


async def hash_off_loop(password: str) -> str:
    """An argon2 hash in a worker thread; call it outside any transaction."""
    return await _off_loop(_hasher.hash, password)


async def verify_off_loop(hashed: str, password: str) -> bool:
    """Whether ``password`` matches ``hashed``, checked in a worker thread."""
    return await _off_loop(_verify, hashed, password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


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
    hashed = await hash_off_loop(password)  # before the transaction: argon2 is slow on purpose

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
    # An unknown email is verified against a dummy hash, in the same thread pool, so that the
    # answer's timing does not tell whether an account exists.
    hashed = user.password_hash if user else await _off_loop(_dummy)
    if not await verify_off_loop(hashed, password):
        return None
    return _view(user) if user else None


@cache
def _dummy() -> str:
    """A hash of a password nobody has, made once (in a worker thread, see ``authenticate``)."""
    return _hasher.hash("not a real password")
