"""Linking a Telegram chat to a customer, on proof only (SPEC §12).

Two proofs count: a single-use deep link from an email sent to the customer, or a code mailed
to an address. An address typed in the bot proves nothing until its code comes back: it is kept
on the code row only, never in ``Customer.email_key`` where every lookup by email looks, so
nothing made for that address elsewhere (box office, import) attaches to the chat meanwhile,
and the bot says the same thing, and mails a code, whether the address is known or not. A
customer already linked to another Telegram account moves only with a code mailed to its own
address, and the account it leaves is told.

The guards are small named functions (``claim_link_once``, ``needs_mailed_code``,
``typed_address_needs_code``, ``codes_limited_for_address``, ``tries_exhausted_for_address``)
so that each test of an attack has a companion showing the attack succeeding without it.

A code is only worth asking for when it can reach its address: ``codes_can_be_mailed`` says
whether this installation sends email now, and the bot never promises a code otherwise.

A chat with a verified address may prove another one (``replacing``): the code goes to the new
address, which stays on the code row until it comes back; then it becomes the customer's
address. An address that belongs to another customer record is refused only at that point,
after the proof, so the answers before it are the same for known and unknown addresses.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import outbox, tokens
from booking.context import Context
from booking.errors import BookingError
from booking.rules.formatting import pick_locale
from booking.rules.text import single_line
from booking.services import health
from booking.services.customers import email_key
from booking.settings_store import secret_key
from booking.sql import skip_locked
from booking.tables.bookings import Booking
from booking.tables.channels import LinkCode
from booking.tables.customers import Customer
from booking.tables.identity import DeepLink
from booking.tables.outbox import OutboxMessage
from booking.views import CustomerView

PURPOSE = "tg-link"
LINK_TTL = timedelta(days=7)  # SPEC §12: a deep link is at most 7 days old
NONCE_BYTES = 12  # 16 characters: the payload stays within Telegram's 64
CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5  # tries of one code
MAX_CODES_PER_HOUR = 3  # codes one Telegram account may ask for in an hour
MAX_CODES_PER_ADDRESS = 3  # codes mailed to one address in an hour, whoever asked
MAX_TRIES_PER_ADDRESS = 10  # tries of the codes of one address in an hour, across accounts
WINDOW = timedelta(hours=1)
KEEP_CODES = timedelta(days=1)  # then code rows go, with the unverified addresses on them
MOVED_KIND = "telegram_moved"
CHANGED_KIND = "email_changed"  # told to the address a customer replaced in the bot


@dataclass(frozen=True, slots=True)
class Linked:
    """What a proof did. ``customer``: the customer now linked to the chat; None when a code
    went to the customer's address first (it is linked to another Telegram account, and a
    deep link alone does not move it). ``moved_from``: the Telegram account it left (told)."""

    customer: CustomerView | None
    moved_from: int | None = None


# -- deep links -------------------------------------------------------------------------------


async def deep_link_payload(ctx: Context, *, customer_id: int) -> str:
    """The ``/start`` payload that links a chat to this customer (≤ 64 chars of [A-Za-z0-9_-]).

    Each call makes a new link (one per email): a row with the hash of a random nonce, used
    once, expiring in ``LINK_TTL``. Expired rows are purged on the way, so the table holds at
    most a week of links.
    """
    secret = await secret_key(ctx)
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    now = ctx.clock.now()
    expires = now + LINK_TTL

    async def work(session: AsyncSession) -> None:
        await session.execute(delete(DeepLink).where(col(DeepLink.expires_at) < now))
        session.add(
            DeepLink(
                nonce_hash=_hash(secret, "link", nonce),
                customer_id=customer_id,
                created_at=now,
                expires_at=expires,
            )
        )

    await ctx.db.write(work)
    return tokens.sign(secret, PURPOSE, f"{customer_id}.{nonce}", expires)


async def link_by_payload(
    ctx: Context,
    *,
    payload: str,
    telegram_user_id: int,
    chat_id: int,
    name: str = "",
    language: str = "en",
    mail_codes: bool = True,
) -> Linked:
    """Link the chat to the customer of a deep link, which is used up by it. A forged, expired
    or already used link is refused with ``link_invalid``. A customer linked to another
    Telegram account is not moved: a code goes to its address (``Linked(None)``); when no code
    can be mailed (``mail_codes`` False) that is refused with ``move_needs_email`` and the link
    stays unused, for a later try."""
    secret = await secret_key(ctx)
    now = ctx.clock.now()
    value = tokens.verify(secret, PURPOSE, payload, now=now) or ""
    owner, _, nonce = value.partition(".")
    if not (owner.isascii() and owner.isdigit() and nonce):
        raise BookingError("link_invalid")
    code = _new_code()

    async def work(session: AsyncSession) -> Linked | None:
        query = select(DeepLink).where(col(DeepLink.nonce_hash) == _hash(secret, "link", nonce))
        link = (await session.execute(query)).scalar_one_or_none()
        if link is None or link.id is None or link.customer_id != int(owner):
            return None
        if link.expires_at <= now or not await claim_link_once(session, link.id, now):
            return None
        customer = await session.get(Customer, link.customer_id)
        if customer is None:
            return None
        if not needs_mailed_code(customer, telegram_user_id):
            return await _attach(session, customer, telegram_user_id, chat_id, now)
        if not customer.email or not customer.email_key:
            return None  # no address to prove it with: nothing can move it from here
        if not mail_codes:
            raise BookingError("move_needs_email")  # rolls back: the link is given back
        chat = await _chat_customer(session, telegram_user_id, chat_id, name, language, now)
        if chat.email_key is not None:
            raise BookingError("telegram_taken")  # this account has its own customer
        await _check_limits(session, telegram_user_id, customer.email_key, now)
        await _mail_code(
            session,
            chat=chat,
            recipient=customer,
            address=customer.email,
            key=customer.email_key,
            code_hash=_hash(secret, "code", code),
            code=code,
            now=now,
        )
        return Linked(None)

    linked = await ctx.db.write(work)
    if linked is None:
        raise BookingError("link_invalid")
    return linked


async def claim_link_once(session: AsyncSession, link_id: int, now: datetime) -> bool:
    """The replay guard: a compare-and-set on ``used_at``, so of two uses (even concurrent
    ones) exactly one gets True. A refusal later in the same transaction gives the link back."""
    result = await session.execute(
        update(DeepLink)
        .where(col(DeepLink.id) == link_id, col(DeepLink.used_at).is_(None))
        .values(used_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


def needs_mailed_code(customer: Customer, telegram_user_id: int) -> bool:
    """The takeover guard: a customer linked to another Telegram account moves to this one only
    with a code mailed to the customer's address (a deep link may have been forwarded)."""
    return customer.telegram_user_id is not None and customer.telegram_user_id != telegram_user_id


# -- codes by email ---------------------------------------------------------------------------


async def codes_can_be_mailed(ctx: Context) -> bool:
    """Whether a code asked for now reaches its address: this installation sends email (the
    channel is configured in ``ctx.channels``) and the channel is not out (its ``health`` row,
    written by the outbox while deliveries fail). Otherwise the code would wait unsent."""
    if "email" not in ctx.channels:
        return False
    return all(trouble.channel != "email" for trouble in await health.channel_troubles(ctx))


async def register_telegram_customer(
    ctx: Context, *, telegram_user_id: int, chat_id: int, name: str, language: str
) -> CustomerView:
    """The customer behind this Telegram account, created on first contact (no email yet)."""

    async def work(session: AsyncSession) -> CustomerView:
        chat = await _chat_customer(
            session, telegram_user_id, chat_id, name, language, ctx.clock.now()
        )
        return CustomerView.of(chat)

    return await ctx.db.write(work)


async def send_link_code(
    ctx: Context,
    *,
    email: str,
    telegram_user_id: int,
    chat_id: int,
    name: str,
    language: str,
    replacing: bool = False,
) -> None:
    """Mail a one-time code to ``email`` for this Telegram account.

    Known address or not, the same happens: a code row that keeps the (unverified) address, and
    a code mail to it, queued for the chat's own record. Nothing is attached until
    ``confirm_link_code``. Refused with ``too_many_codes`` past the limits per account and per
    address, and with ``already_linked`` when the chat already has another verified address,
    unless the customer asked to use another address (``replacing``).
    """
    address = email.strip()
    if len(address) > 254:  # before any pattern runs on it
        raise BookingError("invalid_email")
    key = email_key(address)
    secret = await secret_key(ctx)
    code = _new_code()

    async def work(session: AsyncSession) -> None:
        now = ctx.clock.now()
        await _check_limits(session, telegram_user_id, key, now)
        chat = await _chat_customer(session, telegram_user_id, chat_id, name, language, now)
        if chat.email_key is not None and chat.email_key != key and not replacing:
            raise BookingError("already_linked")
        await session.execute(delete(LinkCode).where(col(LinkCode.created_at) < now - KEEP_CODES))
        await _mail_code(
            session,
            chat=chat,
            recipient=chat,
            address=address,
            key=key,
            code_hash=_hash(secret, "code", code),
            code=code,
            now=now,
        )
        if not typed_address_needs_code(chat, key):
            await _prove_address(session, telegram_user_id, chat_id, address, key, now, replacing)

    await ctx.db.write(work)


def typed_address_needs_code(chat: Customer, key: str) -> bool:
    """The guard of the typed address: it is a claim, not a proof. Whoever the address belongs
    to, the chat gets it (and what was booked for it) only when the mailed code comes back."""
    return True


async def confirm_link_code(
    ctx: Context, *, telegram_user_id: int, chat_id: int, code: str, replacing: bool = False
) -> Linked:
    """The code of the latest request of this Telegram account: its address is now proved.

    If a customer has that address, the chat is linked to it (the chat's Telegram-only record
    merged into it; a customer linked to another account moves, and that account is told);
    otherwise the address becomes the chat's own verified email. A wrong, expired or used code,
    or one whose account or address has run out of tries, is ``link_code_invalid``.

    ``replacing``: the chat's customer asked to use this address instead of its verified one.
    It becomes the customer's address; one that another customer record has is refused with
    ``email_elsewhere`` (the code proved it, so saying so tells nothing to a stranger).
    """
    secret = await secret_key(ctx)
    typed = code.strip()

    async def work(session: AsyncSession) -> Linked | None:
        now = ctx.clock.now()
        query = (
            select(LinkCode)
            .where(
                col(LinkCode.telegram_user_id) == telegram_user_id,
                col(LinkCode.used_at).is_(None),
                col(LinkCode.expires_at) > now,
            )
            .order_by(col(LinkCode.created_at).desc(), col(LinkCode.id).desc())
            .limit(1)
        )
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None or row.id is None:
            return None
        if await tries_exhausted_for_address(session, row.email_key, now):
            return None
        if not await _count_try(session, row.id):
            return None  # this code's own tries are used up
        if not secrets.compare_digest(row.code_hash, _hash(secret, "code", typed)):
            return None  # the try is counted: this transaction commits
        if not await _use_code(session, row.id, now):
            return None
        return await _prove_address(
            session, telegram_user_id, chat_id, row.email, row.email_key, now, replacing
        )

    try:
        linked = await ctx.db.write(work)
    except IntegrityError:  # the address was given to a new customer at the same moment
        linked = await ctx.db.write(work)  # now it is found as that customer's
    if linked is None:
        raise BookingError("link_code_invalid")
    return linked


async def codes_limited_for_address(session: AsyncSession, key: str, now: datetime) -> bool:
    """The per-address guard: at most ``MAX_CODES_PER_ADDRESS`` codes an hour go to one
    address, however many Telegram accounts ask (no mail bomb, no spread brute force)."""
    query = select(func.count()).where(
        col(LinkCode.email_key) == key, col(LinkCode.created_at) > now - WINDOW
    )
    return int((await session.execute(query)).scalar_one()) >= MAX_CODES_PER_ADDRESS


async def tries_exhausted_for_address(session: AsyncSession, key: str, now: datetime) -> bool:
    """The per-address guard on tries: the codes of one address get ``MAX_TRIES_PER_ADDRESS``
    tries an hour between them, whichever Telegram accounts asked for them. On PostgreSQL the
    rows are locked, so concurrent tries from several accounts are counted one after another
    (SQLite's write lock already serializes them)."""
    query = select(col(LinkCode.attempts)).where(
        col(LinkCode.email_key) == key, col(LinkCode.created_at) > now - WINDOW
    )
    if skip_locked(session):
        query = query.with_for_update()
    tries = sum(int(n) for n in (await session.execute(query)).scalars())
    return tries >= MAX_TRIES_PER_ADDRESS


async def _codes_limited_for_account(
    session: AsyncSession, telegram_user_id: int, now: datetime
) -> bool:
    query = select(func.count()).where(
        col(LinkCode.telegram_user_id) == telegram_user_id,
        col(LinkCode.created_at) > now - WINDOW,
    )
    return int((await session.execute(query)).scalar_one()) >= MAX_CODES_PER_HOUR


async def _check_limits(
    session: AsyncSession, telegram_user_id: int, key: str, now: datetime
) -> None:
    await _one_at_a_time(session, 1, str(telegram_user_id))
    await _one_at_a_time(session, 2, key)
    if await _codes_limited_for_account(session, telegram_user_id, now):
        raise BookingError("too_many_codes")
    if await codes_limited_for_address(session, key, now):
        raise BookingError("too_many_codes")


async def _one_at_a_time(session: AsyncSession, space: int, value: str) -> None:
    """On PostgreSQL, requests for the same account (space 1) or address (space 2) wait for
    each other until commit, so concurrent requests cannot all count the same rows and pass the
    limit together (a row lock cannot stop new rows). SQLite's write lock does this already.
    Always taken account first, then address: two requests never wait for each other."""
    if not skip_locked(session):
        return
    digest = hashlib.sha256(value.encode()).digest()
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :key)"),
        {"space": space, "key": int.from_bytes(digest[:4], "big", signed=True)},
    )


async def _count_try(session: AsyncSession, code_id: int) -> bool:
    """Count a try before checking it (a compare-and-set): concurrent guesses cannot get more
    than ``MAX_ATTEMPTS`` tries of one code between them."""
    result = await session.execute(
        update(LinkCode)
        .where(col(LinkCode.id) == code_id, col(LinkCode.attempts) < MAX_ATTEMPTS)
        .values(attempts=col(LinkCode.attempts) + 1)
    )
    return getattr(result, "rowcount", 0) == 1


async def _use_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(LinkCode)
        .where(col(LinkCode.id) == code_id, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def _mail_code(
    session: AsyncSession,
    *,
    chat: Customer,
    recipient: Customer,
    address: str,
    key: str,
    code_hash: str,
    code: str,
    now: datetime,
) -> None:
    """A code row for the chat's Telegram account, and the code mail to ``address``.

    The outbox row names ``recipient`` (the chat's own record for a typed address, the
    customer for a takeover) and carries the address in ``to``: the email channel sends a
    code there and nowhere else (never to a Telegram chat, see ``bot.channel``).
    """
    assert chat.telegram_user_id is not None and chat.telegram_chat_id is not None
    row = LinkCode(
        customer_id=chat.id or 0,
        telegram_user_id=chat.telegram_user_id,
        chat_id=chat.telegram_chat_id,
        email=address,
        email_key=key,
        code_hash=code_hash,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    await session.flush()
    await outbox.enqueue(
        session,
        kind="link_code",
        customer=recipient,
        now=now,
        channels=["email"],
        key=f"link_code:{row.id}",
        payload={"code": code, "to": address},
    )


async def _prove_address(
    session: AsyncSession,
    telegram_user_id: int,
    chat_id: int,
    address: str,
    key: str,
    now: datetime,
    replacing: bool = False,
) -> Linked:
    """What a confirmed code gives: the customer of that address, or the address itself
    (instead of the chat's verified one only when ``replacing``)."""
    target = (
        await session.execute(select(Customer).where(col(Customer.email_key) == key))
    ).scalar_one_or_none()
    chat = await _chat_customer(session, telegram_user_id, chat_id, "", "en", now)
    if target is not None and target.id != chat.id and replacing and chat.email_key is not None:
        # Proved, but another record's: moving the chat there would leave this customer's
        # bookings behind, and merging two verified customers is for the box office.
        raise BookingError("email_elsewhere", email=address)
    if target is not None:
        return await _attach(session, target, telegram_user_id, chat_id, now)
    if chat.email_key is not None and not replacing:
        raise BookingError("already_linked")
    if chat.email and chat.email_key != key:
        await _tell_old_address(session, chat, address, now)
    chat.email, chat.email_key = address, key
    chat.email_undeliverable = False  # a new address: its bounces are still to come
    await session.flush()  # a clash on the unique address shows here, inside the transaction
    return Linked(CustomerView.of(chat))


async def _chat_customer(
    session: AsyncSession,
    telegram_user_id: int,
    chat_id: int,
    name: str,
    language: str,
    now: datetime,
) -> Customer:
    """The record of this Telegram account, made (Telegram only, no email) if it has none."""
    query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is not None:
        return found
    customer = Customer(
        name=single_line(name) or "Telegram user",
        language=pick_locale(language),
        telegram_user_id=telegram_user_id,
        telegram_chat_id=chat_id,
        created_at=now,
    )
    session.add(customer)
    await session.flush()
    return customer


async def _attach(
    session: AsyncSession, customer: Customer, telegram_user_id: int, chat_id: int, now: datetime
) -> Linked:
    """Attach the Telegram account to the customer. A Telegram-only record made for the same
    account earlier (someone who started booking in the bot before giving an email) is merged
    into it: its bookings move over. An account linked to another email is refused. A customer
    leaving another Telegram account has that account told, in its chat and by email."""
    query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
    other = (await session.execute(query)).scalar_one_or_none()
    if other is not None and other.id != customer.id:
        if other.email_key is not None:
            raise BookingError("telegram_taken")
        await _merge(session, source=other, target=customer)
    moved_from = None
    if customer.telegram_user_id not in (None, telegram_user_id):
        moved_from = customer.telegram_user_id
        await _tell_moved(session, customer, now)
    customer.telegram_user_id, customer.telegram_chat_id = telegram_user_id, chat_id
    customer.telegram_unreachable = False
    return Linked(CustomerView.of(customer), moved_from)


async def _tell_moved(session: AsyncSession, customer: Customer, now: datetime) -> None:
    """Queue the notice to the chat the customer leaves (its id travels in the payload: the
    customer's own chat is the new one by the time it is delivered), and to its address."""
    old_chat = customer.telegram_chat_id
    channels = ["telegram"] if old_chat is not None else []
    if customer.email and not customer.email_undeliverable:
        channels.append("email")
    if not channels:
        return
    await outbox.enqueue(
        session,
        kind=MOVED_KIND,
        customer=customer,
        now=now,
        channels=channels,
        key=f"{MOVED_KIND}:{customer.id}:{customer.telegram_user_id}:{now.isoformat()}",
        payload={"chat_id": old_chat},
    )


async def _tell_old_address(
    session: AsyncSession, customer: Customer, new_address: str, now: datetime
) -> None:
    """The address being replaced hears of it (its holder may not be the chat's): the mail
    goes to that old address, named in ``to`` like a code's, and shows the new one masked."""
    await outbox.enqueue(
        session,
        kind=CHANGED_KIND,
        customer=customer,
        now=now,
        channels=["email"],
        key=f"{CHANGED_KIND}:{customer.id}:{now.isoformat()}",
        payload={"to": customer.email, "new_address": masked(new_address)},
    )


def masked(address: str) -> str:
    """'n***@example.org': enough for the owner to know it, not to write to it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def _merge(session: AsyncSession, *, source: Customer, target: Customer) -> None:
    for table in (Booking, OutboxMessage):
        await session.execute(
            update(table).where(table.customer_id == source.id).values(customer_id=target.id)  # type: ignore[arg-type]
        )
    source.telegram_user_id, source.telegram_chat_id = None, None
    source.name = f"{source.name} (merged into #{target.id})"[:200]
    await session.flush()


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _hash(secret: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{secret}:{kind}:{text}".encode()).hexdigest()
