"""One inbound email in, at most one action out: ``process(ctx, raw)``.

The steps (ARCHITECTURE "Notifications out, replies in"): size limit; parse; dedupe on
Message-ID; classify (auto-replies, bounces and lists are recorded and never answered: no
mail loops); route by the signed token of the plus-addressed Reply-To, or by the sender's
address for a new message; check that the sender owns the booking or is a contact of its
organization (otherwise refuse, and tell the owner); strip quotes and signatures; read the
command; call one service; queue the answer; commit (``booking.services.inbound`` does the
service call, the record and the answer in one transaction; its unique Message-ID is the
dedupe, so a message seen before does nothing). The caller flags the message on
the server only after this returns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services import bookings, cancellations, checkouts, extensions
from booking.services import inbound as store
from booking.services.inbound import Answer, Received, Route
from booking.settings_store import secret_key
from booking.views import BookingView, CustomerView
from mail import classify as classifier
from mail.commands import DATE_PAST, Command, Verb, read_command
from mail.parse import ParsedMessage, parse_message
from mail.quotes import fold, strip_reply
from mail.settings import MailSettings
from mail.tokens import TokenClaims, read_reply_token

_TOKEN_SHAPE = re.compile(r"[a-z2-7]{20,56}")
# Free-text reasons mapped to the core's reason codes; anything else is "other" + the text.
_REASONS = (
    ("illness", re.compile(r"\b(ill|illness|sick|malade|maladie|covid|grippe|flu|hospital"
                           r"|hopital)")),
    ("mistake", re.compile(r"\b(mistake|by error|wrong|erreur|trompe|par megarde)")),
    ("price", re.compile(r"\b(price|expensive|afford|prix|trop cher|budget)")),
    (
        "cannot_attend",
        re.compile(r"(can'?t (come|make it|attend)|cannot (come|attend)|not available"
                   r"|empeche|indisponible|pas (venir|disponible)|ne (peux|pourrai) pas)"),
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened: ``duplicate``, ``ignored`` (machine mail, unknown sender), ``answered``
    (help, status, refusal; nothing changed) or ``acted`` (a service changed something)."""

    status: str
    detail: str = ""


async def process(
    ctx: Context,
    raw: bytes,
    *,
    settings: MailSettings,
    size: int | None = None,
    secret: bytes | None = None,
) -> Outcome:
    """Handle one message; safe to call again with the same bytes (then a no-op).

    ``size`` is the server's RFC822.SIZE when only the headers were fetched; ``secret`` the
    reply-token key when the caller already has it (the runner reads it once per poll)."""
    size = len(raw) if size is None else size
    parsed = parse_message(raw, max_bytes=settings.mail_max_bytes)
    oversized = parsed.is_oversized or size > settings.mail_max_bytes
    kind = classifier.classify(parsed, own_domains=(settings.domain,))
    secret = secret if secret is not None else (await secret_key(ctx)).encode()
    claims, tampered = _claims(parsed, secret)
    reference = claims.booking_ref if claims else None
    mail = Received(parsed.message_id, parsed.from_addr, size, _kind(kind, oversized))
    if kind is classifier.Kind.BOUNCE:
        failed = classifier.failed_recipients(parsed)
        new = await store.record_bounce(ctx, mail=mail, failed=failed, reference=reference)
        return _once(new, Outcome("ignored", f"bounce for {len(failed)} address(es)"))
    if kind is not classifier.Kind.HUMAN:
        new = await store.record(ctx, mail=mail, outcome="not answered")
        return _once(new, Outcome("ignored", kind.value))
    route = await store.route(ctx, sender_email=parsed.from_addr, reference=reference)
    return await _human(ctx, settings, parsed, mail, route, oversized=oversized, tampered=tampered)


async def _human(
    ctx: Context,
    settings: MailSettings,
    parsed: ParsedMessage,
    mail: Received,
    route: Route,
    *,
    oversized: bool,
    tampered: bool,
) -> Outcome:
    reply = _Reply(parsed, route.sender)
    if route.booking is not None and not route.allowed:
        return await _not_owner(ctx, mail, route, reply)
    if route.sender is None:
        # Nobody we know, about nothing we know: answering would only feed spam.
        new = await store.record(ctx, mail=mail, outcome="unknown sender")
        return _once(new, Outcome("ignored", "unknown sender"))
    if oversized:
        limit = _size(settings.mail_max_bytes)
        answers = reply.answer("mail_too_large", None, limit=limit)
        new = await store.record(ctx, mail=mail, customer_id=route.sender.id, outcome="too large",
                                 answers=answers)  # fmt: skip
        return _once(new, Outcome("answered", "too large"))
    if tampered:
        return await _refuse(ctx, mail, reply, None, "", "which_booking")
    today = ctx.clock.now().astimezone(_zone(ctx)).date()
    command = read_command(strip_reply(parsed.text), today=today, default_tz=ctx.settings.timezone)
    booking = route.booking or await _only_open_booking(ctx, route.sender)
    return await _dispatch(ctx, mail, reply, route.sender, booking, command)


async def _dispatch(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    sender: CustomerView,
    booking: BookingView | None,
    command: Command,
) -> Outcome:
    verb = command.verb
    name = verb.value
    if verb is Verb.STATUS:
        return await _answer(ctx, mail, sender, None, name, reply.answer("mail_status", None))
    if verb is Verb.RENEW:
        return await _refuse(ctx, mail, reply, booking, name, "renew_unavailable")
    if verb in (Verb.HELP, Verb.UNKNOWN):
        return await _answer(ctx, mail, sender, booking, name, reply.answer("mail_help", booking))
    if booking is None:
        return await _refuse(ctx, mail, reply, None, name, "which_booking")
    if verb is Verb.CANCEL and not command.reason:
        return await _refuse(ctx, mail, reply, booking, name, "cancel_reason_missing")
    if verb is Verb.EXTEND and command.date_error:
        code = "date_in_past" if command.date_error == DATE_PAST else "date_unreadable"
        return await _refuse(ctx, mail, reply, booking, name, code)
    return await _act(ctx, mail, reply, sender, booking, command)


async def _act(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    sender: CustomerView,
    booking: BookingView,
    command: Command,
) -> Outcome:
    actor = Actor.customer(sender.id, sender.name, "email")
    reference = booking.reference
    other = sender.id != booking.customer_id  # a contact acting on a colleague's booking

    async def action(joined: Context) -> Any:
        if command.verb is Verb.PAY:
            return await checkouts.payable(joined, reference=reference)
        if command.verb is Verb.CANCEL:
            reason = command.reason or ""
            return await cancellations.cancel(
                joined, actor=actor, reference=reference, reason=cancel_reason(reason), note=reason
            )
        return await extensions.request_extension(
            joined, actor=actor, reference=reference, until=command.date,
            reason=command.reason or "",
        )  # fmt: skip

    def answers(result: Any) -> Sequence[Answer]:
        if command.verb is Verb.PAY:
            return reply.answer("mail_pay_link", booking)
        if command.verb is Verb.CANCEL:
            # The service tells the booking's customer; a colleague who acted hears it too.
            return reply.answer("mail_done", booking, action="cancelled") if other else ()
        if result.status == "approved":
            until = result.granted_until.isoformat() if result.granted_until else None
            done = reply.answer("mail_done", booking, action="extension_approved", until=until)
            return done if other else ()
        until = result.requested_until.isoformat() if result.requested_until else None
        return reply.answer("mail_extension_requested", booking, until=until)

    def refusal(error: BookingError) -> Sequence[Answer]:
        return reply.refusal(booking, error.code, error.params)

    acted = await store.act(
        ctx, mail=mail, booking_id=booking.id, customer_id=sender.id, command=command.verb.value,
        action=action, answers=answers, refusal=refusal,
    )  # fmt: skip
    if acted.duplicate:
        return Outcome("duplicate")
    if acted.error is not None:
        return Outcome("answered", acted.error.code)
    return Outcome("acted", command.verb.value)


async def _not_owner(ctx: Context, mail: Received, route: Route, reply: _Reply) -> Outcome:
    """Refused; the sender hears why (when we know them) and the owner is told."""
    booking, owner = route.booking, route.owner
    assert booking is not None
    answers = list(reply.refusal(booking, "not_owner", {})) if route.sender else []
    if owner is not None:
        answers.append(
            Answer(
                "mail_not_owner",
                owner.id,
                booking.id,
                {"sender": mail.from_addr or "?", "in_reply_to": mail.message_id},
            )
        )
    sender_id = route.sender.id if route.sender else None
    new = await store.record(
        ctx, mail=mail, booking_id=booking.id, customer_id=sender_id, outcome="not_owner",
        answers=answers,
    )  # fmt: skip
    return _once(new, Outcome("answered", "not_owner"))


async def _answer(
    ctx: Context,
    mail: Received,
    sender: CustomerView,
    booking: BookingView | None,
    command: str,
    answers: Sequence[Answer],
) -> Outcome:
    new = await store.record(
        ctx, mail=mail, booking_id=booking.id if booking else None, customer_id=sender.id,
        command=command, outcome="answered", answers=answers,
    )  # fmt: skip
    return _once(new, Outcome("answered", command))


async def _refuse(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    booking: BookingView | None,
    command: str,
    code: str,
) -> Outcome:
    sender = reply.sender
    assert sender is not None
    new = await store.record(
        ctx, mail=mail, booking_id=booking.id if booking else None, customer_id=sender.id,
        command=command, outcome=code, answers=reply.refusal(booking, code, {}),
    )  # fmt: skip
    return _once(new, Outcome("answered", code))


class _Reply:
    """Answers to the sender, threaded under their message."""

    def __init__(self, parsed: ParsedMessage, sender: CustomerView | None) -> None:
        self.parsed = parsed
        self.sender = sender

    def answer(self, kind: str, booking: BookingView | None, **payload: Any) -> list[Answer]:
        if self.sender is None:
            return []
        payload |= {"in_reply_to": self.parsed.message_id, "subject": self.parsed.subject[:200]}
        return [Answer(kind, self.sender.id, booking.id if booking else None, payload)]

    def refusal(
        self, booking: BookingView | None, code: str, params: dict[str, Any]
    ) -> list[Answer]:
        safe = {k: str(v) for k, v in params.items()}
        return self.answer("mail_refusal", booking, code=code, params=safe)


def _once(new: bool, outcome: Outcome) -> Outcome:
    """The record is unique on Message-ID: a message seen before did nothing this time."""
    return outcome if new else Outcome("duplicate")


def cancel_reason(text: str) -> str:
    """The core's reason code a free-text reason reads as; the text is kept as the note."""
    folded = fold(text)
    return next((code for code, pattern in _REASONS if pattern.search(folded)), "other")


def _claims(parsed: ParsedMessage, secret: bytes) -> tuple[TokenClaims | None, bool]:
    """The first genuine token, and whether a token-shaped one failed (it was tampered with).
    Other plus parts (``ana+shop@…`` in Cc) are somebody else's and are ignored."""
    tampered = False
    for candidate in parsed.reply_token_candidates:
        claims = read_reply_token(secret, candidate)
        if claims is not None:
            return claims, False
        tampered = tampered or bool(_TOKEN_SHAPE.fullmatch(candidate.lower()))
    return None, tampered


async def _only_open_booking(ctx: Context, sender: CustomerView) -> BookingView | None:
    """A new message (no token) may still act when the sender has exactly one open booking."""
    found = [b for b in await bookings.my_bookings(ctx, customer_id=sender.id) if b.is_open]
    return found[0] if len(found) == 1 else None


def _size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit // 1000} kB"


def _kind(kind: classifier.Kind, oversized: bool) -> str:
    if oversized and kind is classifier.Kind.HUMAN:
        return "too_large"
    return kind.value


def _zone(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.timezone)
