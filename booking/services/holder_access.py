"""Signing in to the holder page (``/account``, issue 13; SPEC §12): email and pass code, then
a one-time code mailed to that address, then a server-side session.

**One answer for everyone.** ``request_code`` does the same whether the email and pass code
match a paid pass or not: it counts the request, writes a code row and hands back a random
challenge for the browser. Only a match gets a real code, mailed through the outbox to the
customer's registered address (never to the typed one: they are equal here, and a request for
a stranger's pass with one's own address matches nothing, so mails nobody). A request that
matched nothing gets a row with the hash of a code nobody was sent, so it expires, counts its
tries and dies exactly like a real one. Nothing on the way says which it was.

**The code.** Six digits, valid ``CODE_TTL``, stored as a hash bound to the browser's
challenge, used once (``use_code_once``, a compare-and-set), and tried at most
``MAX_ATTEMPTS`` times: each try is counted before it is checked (``count_try``, a
compare-and-set), so concurrent guesses cannot share more tries than that; then the code is dead
and the holder asks again.

**Throttling** (``within_limit``: one conditional upsert per key, counted before anything is
looked at, so a burst cannot all read "under the limit"):

- per client address: ``REQUESTS_PER_CLIENT`` requests and ``TRIES_PER_CLIENT`` tries an
  hour (the socket's peer: a forwarded header counts only from a trusted proxy, see
  ``console.serving``);
- per email and pass code together: ``CODES_PER_PAIR`` requests an hour, matched or not (a
  count only of matches would tell which pairs are real).

Nothing is keyed on the email alone: a stranger who does not know the pass code cannot use
up anyone's requests or tries, and a stranger's tries only ever spend the stranger's own
code (each code belongs to the browser that asked for it).

**The session** names its proof (the customer, the address it had, the pass code). Every
request checks it again (``owner_still_holds``): an address changed since, or no paid, not
refunded pass of that code left with that customer (cancelled, refunded, moved to someone
else), ends the session there and then. It also ends at sign-out, after ``IDLE`` without a
request and ``ABSOLUTE`` after sign-in.

The guards are small named functions so that each test of an attack has a companion showing
the attack succeeding without it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import outbox, windowed_counts
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.references import normalize_reference
from booking.services.customers import email_key
from booking.settings_store import secret_key
from booking.tables.bookings import Booking
from booking.tables.customers import Customer
from booking.tables.holder_access import HolderCode, HolderSession, HolderThrottle
from booking.tables.passes import Pass

KIND = "holder_code"  # the outbox kind, and its templates templates/mail/holder_code.*
CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5  # tries of one code
WINDOW = timedelta(hours=1)
CODES_PER_PAIR = 3  # requests an hour for one email and pass code, whoever asks
REQUESTS_PER_CLIENT = 10  # requests an hour from one client address
TRIES_PER_CLIENT = 30  # code tries an hour from one client address, across codes
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=8)
REFRESH = timedelta(minutes=1)  # "last seen" is written at most once a minute
KEEP_CODES = timedelta(days=1)  # then code rows and stale counters go
KEEP_ENDED = timedelta(days=30)  # ended sessions stay this long for the record

Refusal = Literal["", "wrong", "used_up", "expired", "too_many_tries"]


@dataclass(frozen=True, slots=True)
class Verified:
    """What a code try gave: a session token, or why not (``tries_left`` after a wrong one)."""

    token: str = ""
    refused: Refusal = ""
    tries_left: int = 0


@dataclass(frozen=True, slots=True)
class HolderSessionView:
    """A signed-in holder, as the page needs them."""

    customer_id: int
    name: str
    email: str
    language: str
    pass_code: str  # the pass code the session was opened with


@dataclass(frozen=True, slots=True)
class _Keys:
    client: str
    pair: str
    tries: str


def _keys(email: str, pass_code: str, client: str) -> _Keys:
    """Hashed counter keys: no typed address is kept in clear."""

    def key(kind: str, value: str) -> str:
        return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    return _Keys(
        client=key("client", client[:280]),
        pair=key("pair", f"{email.strip().lower()[:254]}|{pass_code}"),
        tries=key("tries", client[:280]),
    )


def _hash(secret: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{secret}:holder:{kind}:{text}".encode()).hexdigest()


def _digest(token: str) -> str:
    # 256 random bits: a plain SHA-256 makes the table useless to a thief.
    return hashlib.sha256(token.encode()).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def typed_pass_code(text: str) -> str:
    """A typed pass code as stored ("k7m 4qx" -> "K7M-4QX"); something that cannot be one is
    kept as typed (upper-cased, cut short): it matches nothing, like any other wrong code."""
    return normalize_reference(text) or text.strip().upper()[:9]


async def cookie_secret(ctx: Context) -> str:
    """The key that signs the holder page's cookie (with a salt of its own)."""
    return await secret_key(ctx)


# -- the guards -------------------------------------------------------------------------------


async def within_limit(
    ctx: Context, session: AsyncSession, key: str, limit: int, now: datetime
) -> bool:
    """Count one hit on ``key`` unless it has ``limit`` hits in its window (a window over
    ``WINDOW`` old starts again at one): False, and nothing counted, when it has
    (``windowed_counts.bump``: one conditional upsert, so no two requests both take the last
    place)."""
    table: Any = HolderThrottle.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
    hits = await windowed_counts.bump(
        session, table, "hits", key=key, now=now, window=WINDOW, limit=limit
    )
    return hits is not None


async def count_try(session: AsyncSession, code_id: int) -> int | None:
    """Count a try before checking it (a compare-and-set): the tries made so far, this one
    included, or None when the code's tries are used up. Concurrent guesses cannot get more
    than ``MAX_ATTEMPTS`` checks between them."""
    result = await session.execute(
        update(HolderCode)
        .where(col(HolderCode.id) == code_id, col(HolderCode.attempts) < MAX_ATTEMPTS)
        .values(attempts=col(HolderCode.attempts) + 1)
        .returning(col(HolderCode.attempts))
    )
    row = result.first()
    return None if row is None else int(row[0])


def spent(row: HolderCode, now: datetime) -> bool:
    """Expired, or used already: such a code is not even tried (``use_code_once`` then
    settles two uses at the same moment)."""
    return row.used_at is not None or row.expires_at <= now


async def use_code_once(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """The replay guard: of two uses of one code (even concurrent ones) exactly one opens a
    session."""
    result = await session.execute(
        update(HolderCode)
        .where(col(HolderCode.id) == code_id, col(HolderCode.used_at).is_(None))
        .values(used_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


def _valid_pass(pass_code: str, key: str, *also: ColumnElement[bool]) -> Any:
    """A paid, not refunded pass of this code held by this customer while it has this
    address: the one proof the holder page accepts."""
    return (
        select(Customer)
        .join(Pass, col(Pass.customer_id) == Customer.id)
        .join(Booking, col(Booking.id) == Pass.booking_id)
        .where(
            col(Customer.email_key) == key,
            col(Pass.code) == pass_code,
            col(Booking.status) == states.CONFIRMED,
            col(Booking.refund_due).is_(False),
            *also,
        )
        .limit(1)
    )


async def pass_owner(session: AsyncSession, key: str, pass_code: str) -> Customer | None:
    """The customer with this address who holds a paid pass of this code, or None."""
    query = _valid_pass(pass_code, key)
    return (await session.execute(query)).scalars().first()


async def owner_still_holds(
    session: AsyncSession, customer_id: int, key: str, pass_code: str
) -> bool:
    """The owner re-check of every request: the customer still has the address the proof was
    mailed to and still holds a paid, not refunded pass of that code."""
    query = _valid_pass(pass_code, key, col(Customer.id) == customer_id)
    return (await session.execute(query)).scalars().first() is not None


def answers_alike() -> bool:
    """The guard against enumeration: a request that matched nothing still writes its code
    row (a decoy), so its challenge is refused exactly like a real one, wrong code by wrong
    code, instead of at once as unknown (which would tell which email and pass code exist)."""
    return True


# -- asking for a code ------------------------------------------------------------------------


async def request_code(ctx: Context, *, email: str, pass_code: str, client: str) -> str:
    """Count the request and write its code row; mail a code when ``email`` and
    ``pass_code`` match a paid pass of that customer. Returns the challenge the browser keeps
    for the code page, the same kind of value whether anything matched or not.

    Refused with ``invalid_email`` for a value that is no address (nothing counted), and with
    ``too_many_codes`` past the limits per client address and per email and pass code."""
    if len(email.strip()) > 254:  # before any pattern runs on it
        raise BookingError("invalid_email")
    key = email_key(email)
    code_typed = typed_pass_code(pass_code)
    keys = _keys(key, code_typed, client)
    secret = await secret_key(ctx)
    challenge = secrets.token_urlsafe(32)
    code = _new_code()

    async def work(session: AsyncSession) -> None:
        now = ctx.clock.now()
        await _purge(session, now)
        for limit_key, limit in ((keys.client, REQUESTS_PER_CLIENT), (keys.pair, CODES_PER_PAIR)):
            if not await within_limit(ctx, session, limit_key, limit, now):
                raise BookingError("too_many_codes")  # rolls back: nothing counted
        holder = await pass_owner(session, key, code_typed)
        if holder is None and not answers_alike():
            return
        # Without a match, the hash of a code nobody has: the row then behaves like a real one.
        mailed = code if holder is not None else secrets.token_urlsafe(16)
        row = HolderCode(
            challenge_hash=_hash(secret, "challenge", challenge),
            code_hash=_hash(secret, "code", f"{challenge}:{mailed}"),
            customer_id=holder.id if holder is not None else None,
            email_key=key if holder is not None else None,
            pass_code=code_typed if holder is not None else None,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        session.add(row)
        await session.flush()
        if holder is not None:
            await _mail_code(session, holder, row, code, now)

    await ctx.db.write(work)
    return challenge


async def _mail_code(
    session: AsyncSession, holder: Customer, row: HolderCode, code: str, now: datetime
) -> None:
    """The code mail, to the customer's registered address only, in their language."""
    await outbox.enqueue(
        session,
        kind=KIND,
        customer=holder,
        now=now,
        channels=["email"],
        key=f"{KIND}:{row.id}",
        payload={
            "code": code,
            "pass_code": row.pass_code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
        },
    )


async def _purge(session: AsyncSession, now: datetime) -> None:
    """Old code rows and counters go on the way: the tables hold about a day."""
    await session.execute(delete(HolderCode).where(col(HolderCode.created_at) < now - KEEP_CODES))
    await session.execute(
        delete(HolderThrottle).where(col(HolderThrottle.window_start) < now - KEEP_CODES)
    )
    await session.execute(
        delete(HolderSession).where(col(HolderSession.created_at) < now - KEEP_ENDED)
    )


# -- trying a code ----------------------------------------------------------------------------


async def verify_code(
    ctx: Context, *, challenge: str, code: str, client: str, replaces: str = ""
) -> Verified:
    """Try ``code`` against the browser's ``challenge``: a new session's token (ending
    ``replaces``, the browser's previous session) or why not:

    - ``wrong``: not the code (``tries_left`` more tries);
    - ``used_up``: its tries are spent (the last one was wrong, or there are none left);
    - ``expired``: no such challenge, too old, used already, or the pass no longer the
      customer's (then a new request is needed);
    - ``too_many_tries``: this client tried too many codes lately; nothing was checked.

    A wrong try is counted and committed; a matched-nothing challenge answers like any other.
    """
    secret = await secret_key(ctx)
    typed = "".join(code.split())[:12]
    keys = _keys("", "", client)

    async def work(session: AsyncSession) -> Verified:
        now = ctx.clock.now()
        if not await within_limit(ctx, session, keys.tries, TRIES_PER_CLIENT, now):
            return Verified(refused="too_many_tries")
        query = select(HolderCode).where(
            col(HolderCode.challenge_hash) == _hash(secret, "challenge", challenge)
        )
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None or row.id is None or spent(row, now):
            return Verified(refused="expired")
        tries = await count_try(session, row.id)
        if tries is None:
            return Verified(refused="used_up")
        expected = _hash(secret, "code", f"{challenge}:{typed}")
        if not secrets.compare_digest(row.code_hash, expected):
            left = MAX_ATTEMPTS - tries
            return Verified(refused="wrong" if left > 0 else "used_up", tries_left=left)
        if not await use_code_once(session, row.id, now):
            return Verified(refused="expired")
        if row.customer_id is None or row.email_key is None or row.pass_code is None:
            return Verified(refused="expired")  # unreachable: nobody has such a row's code
        if not await owner_still_holds(session, row.customer_id, row.email_key, row.pass_code):
            return Verified(refused="expired")  # cancelled, refunded or moved meanwhile
        if replaces:
            await _end(session, col(HolderSession.token_hash) == _digest(replaces), now, "replaced")
        return Verified(token=_open(session, row, now))

    return await ctx.db.write(work)


def _open(session: AsyncSession, row: HolderCode, now: datetime) -> str:
    assert row.customer_id is not None and row.email_key and row.pass_code
    token = secrets.token_urlsafe(32)
    session.add(
        HolderSession(
            token_hash=_digest(token),
            customer_id=row.customer_id,
            email_key=row.email_key,
            pass_code=row.pass_code,
            created_at=now,
            seen_at=now,
        )
    )
    return token


# -- the session ------------------------------------------------------------------------------


async def resume(ctx: Context, *, token: str) -> HolderSessionView | None:
    """The holder a session token signs in, checked on every request: the session open, not
    idle for ``IDLE`` nor older than ``ABSOLUTE``, and its proof still holding
    (``owner_still_holds``). A session that fails any of these ends now; None then."""
    if not token:
        return None
    now = ctx.clock.now()
    digest = _digest(token)

    async def read(session: AsyncSession) -> tuple[HolderSession, Customer, str] | None:
        query = (
            select(HolderSession, Customer)
            .join(Customer, col(Customer.id) == HolderSession.customer_id)
            .where(col(HolderSession.token_hash) == digest, col(HolderSession.ended_at).is_(None))
        )
        found = (await session.execute(query)).first()
        if found is None:
            return None
        held, customer = found
        reason = _ran_out(held, now)
        if not reason and not await owner_still_holds(
            session, held.customer_id, held.email_key, held.pass_code
        ):
            reason = "owner_changed"
        return held, customer, reason

    found = await ctx.db.read(read)
    if found is None:
        return None
    held, customer, reason = found
    mine = col(HolderSession.id) == held.id
    if reason:
        await ctx.db.write(lambda s: _end(s, mine, now, reason))
        return None
    if now - held.seen_at > REFRESH:
        stamp = update(HolderSession).where(mine).values(seen_at=now)
        await ctx.db.write(lambda s: s.execute(stamp))
    return HolderSessionView(
        customer_id=customer.id or 0,
        name=customer.name,
        email=customer.email or "",
        language=customer.language,
        pass_code=held.pass_code,
    )


def _ran_out(held: HolderSession, now: datetime) -> str:
    if now - held.seen_at > IDLE or now - held.created_at > ABSOLUTE:
        return "expired"
    return ""


async def end_session(ctx: Context, *, token: str) -> None:
    """Sign-out: the session ends on the server, so any copy of the cookie stops working."""
    if not token:
        return
    now = ctx.clock.now()
    mine = col(HolderSession.token_hash) == _digest(token)
    await ctx.db.write(lambda s: _end(s, mine, now, "signed_out"))


async def _end(
    session: AsyncSession, where: ColumnElement[bool], now: datetime, reason: str
) -> None:
    await session.execute(
        update(HolderSession)
        .where(where, col(HolderSession.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason)
    )
