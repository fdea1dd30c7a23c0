"""Staff accounts as the console manages them: sign-in with throttling, server-side sessions,
roles, languages.

Hashing stays in ``booking.services.staff`` (argon2, in worker threads); this module adds what
a web sign-in and an admin page need around it.

Sign-in throttling (the numbers are the README's Security section):

- Hard limit, answered 429 without checking the password: 5 failed sign-ins per (client
  address, email) and 30 per client address across emails (password spraying), each in a
  15-minute window that starts at the key's first failure. A success clears the (client,
  email) count.
- Per email alone, from any number of clients: never refused (a stranger must not be able to
  lock an account out), only slowed: after 5 failures in the window, each attempt waits
  0.5 s, doubling per further failure, at most 4 s, before the password is checked.
- The attempt is counted as a failure *before* the password is checked, in one write
  transaction of conditional upserts (one row per key), so a burst of concurrent guesses gets
  at most the limit of real checks; a success then takes its count back.

Sessions: one ``StaffSession`` row per sign-in; the cookie carries a random token and the
table its SHA-256. A request costs one indexed read (the session joined with its account);
the "last seen" stamp is written at most once a minute. A session ends at sign-out, at a
password change (the account's other sessions), when the account is switched off, after
4 hours without activity and 14 hours after sign-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import windowed_counts
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.formatting import LOCALES
from booking.services import staff
from booking.settings_store import secret_key
from booking.sql import Prepared, connection_of
from booking.tables.staff import LoginCounter, StaffSession, StaffUser

WINDOW = timedelta(minutes=15)
MAX_PER_CLIENT_EMAIL = 5
MAX_PER_CLIENT = 30
FREE_PER_EMAIL = 5  # failures of one email, from anywhere, before its sign-ins are slowed
DELAY_FIRST_S = 0.5
DELAY_CAP_S = 4.0

IDLE = timedelta(hours=4)  # a desk left alone for a morning asks for the password again
ABSOLUTE = timedelta(hours=14)  # and every working day starts with a fresh sign-in
REFRESH = timedelta(minutes=1)  # "last seen" is written at most once a minute
KEEP_ENDED = timedelta(days=30)  # ended sessions stay this long for the record, then go


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
    token: str = ""  # the new session's token (for the cookie) when signed in


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """What a session cookie's token is worth now: the account, or why not."""

    account: StaffAccount | None
    ended: bool = False  # the token named a session that is over (signed out, expired, …)


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


# -- sign-in throttling ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThrottleKeys:
    pair: str
    client: str
    email: str


def throttle_keys(email: str, client: str) -> ThrottleKeys:
    """Hashed keys: the counters never hold an attempted address in clear."""

    def key(kind: str, value: str) -> str:
        return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    address = email.strip().lower()[:254]
    return ThrottleKeys(
        pair=key("pair", f"{client[:280]}|{address}"),
        client=key("client", client[:280]),
        email=key("email", address),
    )


def hard_limits(keys: ThrottleKeys) -> list[tuple[str, int]]:
    """The keys whose count refuses an attempt (429). Keyed on the client, never on the email
    alone: a stranger elsewhere must not be able to lock the right password out."""
    return [(keys.pair, MAX_PER_CLIENT_EMAIL), (keys.client, MAX_PER_CLIENT)]


def login_delay(email_failures: int) -> float:
    """Seconds to wait before checking a password for an email that failed this often lately."""
    over = email_failures - FREE_PER_EMAIL
    return 0.0 if over < 0 else min(DELAY_CAP_S, DELAY_FIRST_S * 2**over)


class _Refused(Exception):
    """Raised inside the admission transaction to roll its counts back."""


async def admit_attempt(ctx: Context, keys: ThrottleKeys, now: datetime) -> int | None:
    """Count this attempt as a failure on every key, before the password is checked: None when
    a hard limit is reached (and nothing counted), else the email's failures before this one.

    One write transaction of conditional upserts: on SQLite it holds the write lock from BEGIN
    (IMMEDIATE), on PostgreSQL ``ON CONFLICT DO UPDATE … WHERE`` locks the key's row and
    re-checks the condition on the latest version, so no two attempts can both take the last
    place under a limit.
    """

    async def work(session: AsyncSession) -> int:
        for key, limit in hard_limits(keys):
            if await _bump(ctx, session, key, now, limit) is None:
                raise _Refused
        counted = await _bump(ctx, session, keys.email, now, None)
        return (counted or 1) - 1

    try:
        async with _admission_gate():
            return await ctx.db.write(work)
    except _Refused:
        return None


ADMISSIONS_AT_ONCE = 4
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _admission_gate() -> asyncio.Semaphore:
    """At most a few admission transactions at once per process (per event loop). They all
    queue on the same counter rows anyway; without the gate a burst of 40 held 30 PostgreSQL
    connections (the whole pool, most of them opened for it) waiting on one row lock, and
    /healthz waited for a connection."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(ADMISSIONS_AT_ONCE)
    return gate


async def _bump(
    ctx: Context, session: AsyncSession, key: str, now: datetime, limit: int | None
) -> int | None:
    """Add one failure to ``key`` (a window over ``WINDOW`` starts again at one): the new count,
    or None when the key is at ``limit`` within its window (then nothing changes)."""
    table: Any = LoginCounter.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
    return await windowed_counts.bump(
        session, table, "failures", key=key, now=now, window=WINDOW, limit=limit
    )


async def pause(ctx: Context, seconds: float) -> None:
    """Wait without holding the loop; through the context's clock when it can sleep (a test
    clock records the wait instead of spending it)."""
    if seconds <= 0:
        return
    sleep = getattr(ctx.clock, "sleep", None)
    await (sleep(seconds) if sleep is not None else asyncio.sleep(seconds))


async def login(
    ctx: Context, *, email: str, password: str, client: str, replaces: str = ""
) -> LoginResult:
    """Check the credentials unless this client failed too often lately; on success open a
    session (ending ``replaces``, the browser's previous session, if any)."""
    keys = throttle_keys(email, client)
    failures = await admit_attempt(ctx, keys, ctx.clock.now())
    if failures is None:
        return LoginResult(None, throttled=True)
    await pause(ctx, login_delay(failures))
    found = await staff.authenticate(ctx, email=email, password=password)
    if found is None:
        return LoginResult(None)
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> LoginResult:
        user = await session.get(StaffUser, found.id)
        if user is None or not user.active:
            return LoginResult(None)
        await _forgive(session, keys)
        if replaces:
            await _end(session, col(StaffSession.token_hash) == _digest(replaces), now, "replaced")
        await session.execute(
            delete(StaffSession).where(
                col(StaffSession.staff_id) == found.id,
                col(StaffSession.created_at) < now - KEEP_ENDED,
            )
        )
        return LoginResult(_account(user), token=_open(session, found.id, now))

    return await ctx.db.write(work)


async def _forgive(session: AsyncSession, keys: ThrottleKeys) -> None:
    """A success clears its (client, email) failures and takes back its own provisional count
    from the client and email keys (other people's failures there stay)."""
    await session.execute(delete(LoginCounter).where(col(LoginCounter.key) == keys.pair))
    await session.execute(
        update(LoginCounter)
        .where(col(LoginCounter.key).in_((keys.client, keys.email)), col(LoginCounter.failures) > 0)
        .values(failures=col(LoginCounter.failures) - 1)
    )


# -- server-side sessions -----------------------------------------------------------------------


def _digest(token: str) -> str:
    # The token is 256 random bits: a plain SHA-256 is enough to make the table useless to a thief.
    return hashlib.sha256(token.encode()).hexdigest()


def _open(session: AsyncSession, staff_id: int, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(token_hash=_digest(token), staff_id=staff_id, created_at=now, seen_at=now)
    )
    return token


async def _end(
    session: AsyncSession, where: ColumnElement[bool], now: datetime, reason: str
) -> None:
    await session.execute(
        update(StaffSession)
        .where(where, col(StaffSession.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason)
    )


async def start_session(ctx: Context, *, staff_id: int) -> str:
    """A new session for an account, its token for the cookie (sign-in, tests, benchmarks)."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> str:
        return _open(session, staff_id, now)

    return await ctx.db.write(work)


@dataclass(frozen=True, slots=True)
class _Open:
    id: int
    created_at: datetime
    seen_at: datetime
    account: StaffAccount


_USER_COLUMNS = (
    col(StaffUser.id),
    col(StaffUser.email),
    col(StaffUser.name),
    col(StaffUser.role),
    col(StaffUser.language),
    col(StaffUser.active),
    col(StaffUser.session_epoch),
    col(StaffUser.created_at),
)


# One session's row and its account's, by the token's digest (unique index). Columns, not
# entities: this runs on every request and the ORM's identity map for two entities cost about
# 0.5 ms more than the plain account lookup it replaced.
_SESSION_QUERY: Any = (
    select(
        col(StaffSession.id),
        col(StaffSession.created_at),
        col(StaffSession.seen_at),
        *_USER_COLUMNS,
    )
    .join(StaffUser, col(StaffUser.id) == col(StaffSession.staff_id))
    .where(
        col(StaffSession.token_hash) == bindparam("digest"),
        col(StaffSession.ended_at).is_(None),
    )
)
_SESSION = Prepared(_SESSION_QUERY)


def _open_of(row: Sequence[Any]) -> _Open:
    account = StaffAccount(
        id=row[3] or 0,
        email=row[4],
        name=row[5],
        role=row[6],
        language=row[7],
        active=row[8],
        session_epoch=row[9],
        created_at=row[10],
    )
    return _Open(row[0] or 0, row[1], row[2], account)


async def resume_session(ctx: Context, *, token: str) -> SessionCheck:
    """The account a session token signs in, checked on every console request: one read by the
    token's unique index; a write only when the session just ran out, or once a minute to
    move its idle clock."""
    now = ctx.clock.now()
    digest = _digest(token)

    async def read(session: AsyncSession) -> _Open | None:
        row = (await session.execute(_SESSION_QUERY, {"digest": digest})).first()
        return None if row is None else _open_of(row)

    found = await ctx.db.read(read)
    if found is None:
        return SessionCheck(None, ended=True)
    reason = _ran_out(found, now)
    if reason:
        await _write(ctx, lambda s: _end(s, col(StaffSession.id) == found.id, now, reason))
        return SessionCheck(None, ended=True)
    if now - found.seen_at > REFRESH:
        stamp = update(StaffSession).where(col(StaffSession.id) == found.id).values(seen_at=now)
        await _write(ctx, lambda s: s.execute(stamp))
    return SessionCheck(found.account)


async def resume_in(session: AsyncSession, *, token: str, now: datetime) -> SessionCheck:
    """``resume_session`` in the caller's write transaction (the door's scan checks the session
    and admits in one): the same rules, a prepared read on the transaction's connection."""
    if not token:
        return SessionCheck(None, ended=True)
    conn = await connection_of(session)
    rows = (await _SESSION.run(conn, {"digest": _digest(token)})).rows
    if not rows:
        return SessionCheck(None, ended=True)
    found = _open_of(rows[0])
    reason = _ran_out(found, now)
    if reason:
        await _end(session, col(StaffSession.id) == found.id, now, reason)
        return SessionCheck(None, ended=True)
    if now - found.seen_at > REFRESH:
        stamp = update(StaffSession).where(col(StaffSession.id) == found.id).values(seen_at=now)
        await session.execute(stamp)
    return SessionCheck(found.account)


def _ran_out(found: _Open, now: datetime) -> str:
    if not found.account.active:
        return "switched_off"
    if now - found.seen_at > IDLE or now - found.created_at > ABSOLUTE:
        return "expired"
    return ""


async def _write(ctx: Context, step: Callable[[AsyncSession], Awaitable[object]]) -> None:
    async def work(session: AsyncSession) -> None:
        await step(session)

    await ctx.db.write(work)


async def end_session(ctx: Context, *, token: str) -> None:
    """Sign-out: the session ends on the server, so any copy of the cookie stops working."""
    now = ctx.clock.now()
    mine = col(StaffSession.token_hash) == _digest(token)
    await _write(ctx, lambda s: _end(s, mine, now, "signed_out"))


async def session_secret(ctx: Context) -> str:
    """The key that signs console cookies: the instance's secret key."""
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
            await _end(
                session, col(StaffSession.staff_id) == staff_id, ctx.clock.now(), "switched_off"
            )
        user.name, user.role, user.language, user.active = (
            name.strip()[:200],
            role,
            language,
            active,
        )
        return _account(user)

    return await ctx.db.write(work)


async def set_password(
    ctx: Context, *, actor: Actor, staff_id: int, password: str, keep: str = ""
) -> None:
    """A new password ends every session of the account (including a thief's), except ``keep``:
    the token of the session that changed it, when that is the account's own."""
    if len(password) < staff.MIN_PASSWORD:
        raise BookingError("weak_password", min=staff.MIN_PASSWORD)
    hashed = await staff.hash_off_loop(password)
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> None:
        result = await session.execute(
            update(StaffUser)
            .where(col(StaffUser.id) == staff_id)
            .values(password_hash=hashed, session_epoch=StaffUser.session_epoch + 1)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise BookingError("unknown_item")
        others = [col(StaffSession.staff_id) == staff_id]
        if keep:
            others.append(col(StaffSession.token_hash) != _digest(keep))
        await _end(session, and_(*others), now, "password")

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
