"""One inbound email in, at most one action out: ``process(ctx, raw)``.

The steps (ARCHITECTURE "Notifications out, replies in"): size limit; parse, classify and
strip quotes in a worker thread within ``PARSE_BUDGET`` seconds (a message that makes the
parser raise or overrun is recorded once as "unreadable", and ``process`` returns normally so
the runner flags it: it is never retried); dedupe on Message-ID; machine mail (every kind but
HUMAN) is recorded and never answered, bounces on our VERP token update the customer's
flag; route by the signed reply token; check authority; read the command (a plain thank-you
is recorded and never answered; an ambiguous reply gets a question); call one service;
queue the answer; commit (``booking.services.inbound`` does the service call, the record and
the answer in one transaction; its unique Message-ID is the dedupe, so a message seen before
does nothing). The caller flags the message on the server only after this returns.

Email authority (README "Security"). A reply changes something (CANCEL, EXTEND, PAY's link
for one booking, RENEW, and every later command) only when all hold:

* it carries a genuine reply token (plus-address in To/Cc/Delivered-To/X-Original-To);
* the token is bound to that booking and to its customer or a contact of its organization;
* ``From`` is the token's customer or a contact of the booking's organization;
* the operator's own receiving server did not record a DMARC failure for it
  (``dmarc_failed``; read only when ``GUICHET_MAIL_AUTHSERV_ID`` is set).

Mail without a token changes nothing, ever: there is no "the sender's only open booking"
guess. STATUS and HELP (and PAY, answered like STATUS) may be answered without a token; any
answer goes through the outbox to the *registered* address of the customer record, never to
an address seen only in ``From``. A sender who may not act is refused and the booking's owner
told; a sender we do not know gets nothing. Answers and notices are limited per recipient
(``booking.services.inbound.ANSWERS_PER_HOUR``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import authres

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries import passes as pass_queries
from booking.queries import renewals as renewal_queries
from booking.queries.renewals import RenewalChoice
from booking.services import bookings, cancellations, checkouts, extensions, renewals
from booking.services import inbound as store
from booking.services.inbound import Answer, Received, Route
from booking.settings_store import secret_key
from booking.views import BookingView
from mail import classify as classifier
from mail.commands import DATE_PAST, Command, Verb, read_command
from mail.parse import ParsedMessage, parse_message
from mail.quotes import fold, strip_reply
from mail.render import safe_subject
from mail.settings import MailSettings
from mail.tokens import TokenClaims, address_digest, read_bounce_token, read_reply_token

log = logging.getLogger(__name__)
# Seconds a message may take to be parsed, classified and stripped in its thread. Real mail
# takes milliseconds; past this it is recorded as unreadable (the thread cannot be stopped,
# but the loop and the other messages go on).
PARSE_BUDGET = 10.0
# An Authentication-Results value longer than this is not read (one hop writes ~300 bytes).
_MAX_AUTH_RESULT = 4096
# "Both failed": SPF said the sending host may not send for the domain (softfail included:
# a careful desk does not act on it), and no valid DKIM signature vouches for the message.
_SPF_FAIL = frozenset({"fail", "softfail", "permerror"})
_DKIM_FAIL = frozenset({"fail", "permerror", "none"})

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


@dataclass(frozen=True, slots=True)
class Reading:
    """What the worker thread read of one message."""

    parsed: ParsedMessage
    kind: classifier.Kind
    stripped: str  # the newly written text of a human reply, "" for machine mail
    forged: bool  # dmarc_failed(), see there
    verdict: str  # bounces: "failed", "delivered" or "delayed"


@dataclass(frozen=True, slots=True)
class BounceTarget:
    """Whom a bounce is about: the customer its VERP token names, and a test of whether the
    token was made for a given address."""

    customer_id: int
    matches: Callable[[str], bool]


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
    secret = secret if secret is not None else (await secret_key(ctx)).encode()
    try:
        reading = await asyncio.wait_for(asyncio.to_thread(read, raw, settings), PARSE_BUDGET)
    except Exception as exc:  # RecursionError, TimeoutError, a stdlib bug: never retry it
        return await _unreadable(ctx, raw, size, exc)
    parsed, kind = reading.parsed, reading.kind
    oversized = parsed.is_oversized or size > settings.mail_max_bytes
    mail = Received(parsed.message_id, parsed.from_addr, size, _kind(kind, oversized))
    if kind.value == "bounce":
        target = await bounce_target(ctx, parsed, secret)
        outcome = await store.record_bounce(
            ctx, mail=mail, customer_id=target.customer_id if target else None,
            address_matches=target.matches if target else _nothing, verdict=reading.verdict,
        )  # fmt: skip
        return Outcome("ignored", f"bounce: {outcome}") if outcome else Outcome("duplicate")
    if kind is not classifier.Kind.HUMAN:
        new = await store.record(ctx, mail=mail, outcome="not answered")
        return _once(new, Outcome("ignored", kind.value))
    claims, tampered = _claims(parsed, secret)
    route = await store.route(
        ctx,
        sender_email=parsed.from_addr,
        reference=claims.booking_ref if claims else None,
        token_customer_id=claims.customer_id if claims else None,
    )
    if reading.forged:
        return await _forged(ctx, mail, route)
    return await _human(ctx, settings, reading, mail, route, oversized=oversized, tampered=tampered)


def read(raw: bytes, settings: MailSettings) -> Reading:
    """Parse, classify and strip one message (runs in a worker thread: all the CPU work and
    every pattern of the pipeline is here, off the event loop)."""
    parsed = parse_message(raw, max_bytes=settings.mail_max_bytes)
    kind = classifier.classify(parsed, own_domains=(settings.domain,))
    human = kind is classifier.Kind.HUMAN
    return Reading(
        parsed=parsed,
        kind=kind,
        stripped=strip_reply(parsed.text) if human else "",
        forged=human and dmarc_failed(parsed, settings.mail_authserv_id),
        verdict="" if human else _verdict(parsed),
    )


def dmarc_failed(parsed: ParsedMessage, authserv_id: str) -> bool:
    """Guard: the operator's receiving server (its ``authserv-id`` is the setting) says the
    ``From`` domain failed DMARC, or that SPF and DKIM both failed.

    Only Authentication-Results headers with exactly that authserv-id count: anyone can add
    one with any verdict, and the server that receives for us adds its own above them. With
    the setting empty no verdict is read at all (we cannot tell ours from a forged one), so
    authority then rests on the token and the ``From`` check alone."""
    wanted = authserv_id.strip().lower()
    if not wanted:
        return False
    domain = parsed.from_addr.rpartition("@")[2]
    for value in parsed.auth_results:
        header = _auth_header(value)
        if header is None or str(header.authserv_id).lower() != wanted:
            continue
        results = {str(r.method).lower(): r for r in header.results}
        dmarc = results.get("dmarc")
        if (
            dmarc is not None
            and str(dmarc.result).lower() == "fail"
            and _about_domain(dmarc, domain)
        ):
            return True
        spf, dkim = results.get("spf"), results.get("dkim")
        if (
            spf is not None
            and dkim is not None
            and _failed(spf, _SPF_FAIL)
            and _failed(dkim, _DKIM_FAIL)
        ):
            return True
    return False


def _auth_header(value: str) -> Any:
    if len(value) > _MAX_AUTH_RESULT:
        return None
    try:
        return authres.AuthenticationResultsHeader.parse_value(value)
    except Exception:  # authres raises its own SyntaxError and others on garbage
        return None


def _about_domain(result: Any, domain: str) -> bool:
    """A dmarc result names the domain it checked (header.from); absent, it is the From's."""
    named = [
        str(p.value).lower()
        for p in getattr(result, "properties", None) or ()
        if str(p.type).lower() == "header" and str(p.name).lower() == "from"
    ]
    return not named or domain in named


def _failed(result: Any, failing: frozenset[str]) -> bool:
    return str(result.result).lower() in failing


def _verdict(parsed: ParsedMessage) -> str:
    """What a bounce reports: RFC 3464 reports say per recipient; every other bounce format
    (no delivery-status part) is a failure."""
    if parsed.delivery_status is None:
        return "failed"
    if classifier.failed_recipients(parsed):
        return "failed"
    if "action: delivered" in parsed.delivery_status.lower():
        return "delivered"
    return "delayed"


async def bounce_target(ctx: Context, parsed: ParsedMessage, secret: bytes) -> BounceTarget | None:
    """Guard: a bounce is about the customer named by the genuine VERP (bounce) token it came
    back on, and nobody else; the addresses it names (X-Failed-Recipients, the DSN body) are
    never used to find anyone."""
    for candidate in parsed.reply_token_candidates:
        claims = read_bounce_token(secret, candidate)
        if claims is not None:
            return BounceTarget(claims.customer_id, _digest_test(secret, claims.address_digest))
    return None


def _digest_test(secret: bytes, digest: bytes) -> Callable[[str], bool]:
    return lambda address: hmac.compare_digest(address_digest(secret, address), digest)


def _nothing(address: str) -> bool:
    return False


async def _unreadable(ctx: Context, raw: bytes, size: int, exc: BaseException) -> Outcome:
    """Record a message we could not read, once, under a Message-ID made from its bytes."""
    log.warning("inbound message unreadable (%s); recorded, not retried", type(exc).__name__)
    message_id = f"sha256.{hashlib.sha256(raw).hexdigest()}@guichet.invalid"
    mail = Received(message_id, "", size, "unreadable")
    new = await store.record(ctx, mail=mail, outcome=f"unreadable: {type(exc).__name__}")
    return _once(new, Outcome("ignored", "unreadable"))


async def _forged(ctx: Context, mail: Received, route: Route) -> Outcome:
    """DMARC failed: nothing acts, the sender gets nothing, the booking's owner is told."""
    booking, owner = route.booking, route.owner
    answers = []
    if booking is not None and owner is not None:
        payload = {"sender": mail.from_addr or "?", "in_reply_to": mail.message_id}
        answers.append(Answer("mail_forged", owner.id, booking.id, payload))
    new = await store.record(
        ctx, mail=mail, booking_id=booking.id if booking else None,
        customer_id=route.sender.id if route.sender else None, outcome="dmarc_fail",
        answers=answers,
    )  # fmt: skip
    return _once(new, Outcome("answered" if answers else "ignored", "dmarc_fail"))


async def _human(
    ctx: Context,
    settings: MailSettings,
    reading: Reading,
    mail: Received,
    route: Route,
    *,
    oversized: bool,
    tampered: bool,
) -> Outcome:
    reply = _Reply(reading.parsed, route)
    if route.booking is not None and not route.allowed:
        return await _not_owner(ctx, mail, route, reply)
    if route.sender is None:
        # Nobody we know, about nothing we know: answering would only feed spam.
        new = await store.record(ctx, mail=mail, outcome="unknown sender")
        return _once(new, Outcome("ignored", "unknown sender"))
    if oversized:
        limit = _size(settings.mail_max_bytes)
        answers = reply.answer("mail_too_large", None, limit=limit)
        return await _answer(ctx, mail, reply, None, "", answers, outcome="too large")
    today = ctx.clock.now().astimezone(_zone(ctx)).date()
    command = read_command(reading.stripped, today=today, default_tz=ctx.settings.timezone)
    if command.verb is Verb.THANKS:
        # A plain thank-you asks for nothing: any answer would only be noise (or a loop).
        new = await store.record(
            ctx, mail=mail, booking_id=route.booking.id if route.booking else None,
            customer_id=reply.sender.id if reply.sender else None, command="thanks",
            outcome="thanks, not answered", proven_customer_id=reply.proven,
        )  # fmt: skip
        return _once(new, Outcome("ignored", "thanks"))
    if tampered:
        return await _refuse(ctx, mail, reply, None, "", "which_booking")
    return await _dispatch(ctx, mail, reply, target_booking(route), command)


def target_booking(route: Route) -> BookingView | None:
    """Guard: the booking a command may act on is the one a genuine, bound token names,
    never a guess from the sender's address (their only open booking, say)."""
    return route.booking


async def _dispatch(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    booking: BookingView | None,
    command: Command,
) -> Outcome:
    verb = command.verb
    name = verb.value
    if verb is Verb.STATUS or (verb is Verb.PAY and booking is None):
        # The status lists every booking with its pay link, to the registered address.
        return await _answer(ctx, mail, reply, None, name, reply.answer("mail_status", None))
    if verb is Verb.AMBIGUOUS:
        options = [option.value for option in command.options]
        question = reply.answer("mail_which_command", booking, options=options)
        return await _answer(ctx, mail, reply, booking, name, question)
    if verb in (Verb.HELP, Verb.UNKNOWN):
        # "asked": the customer wrote HELP, so the answer is the help, not "no command found".
        help_mail = reply.answer("mail_help", booking, asked=verb is Verb.HELP)
        return await _answer(ctx, mail, reply, booking, name, help_mail)
    if booking is None:
        return await _refuse(ctx, mail, reply, None, name, "which_booking")
    if verb is Verb.CANCEL and not command.reason:
        return await _refuse(ctx, mail, reply, booking, name, "cancel_reason_missing")
    if verb is Verb.EXTEND and command.date_error:
        code = "date_in_past" if command.date_error == DATE_PAST else "date_unreadable"
        return await _refuse(ctx, mail, reply, booking, name, code)
    if verb is Verb.RENEW:
        return await _renew(ctx, mail, reply, booking)
    return await _act(ctx, mail, reply, booking, command)


async def _renew(ctx: Context, mail: Received, reply: _Reply, booking: BookingView) -> Outcome:
    """RENEW on the email of a pass (the token's booking is the OLD pass's): with one pass on
    offer, renew into it (a hold with a deadline) and answer with its booking and pay link;
    with several, answer with the offers and the renewal page's link (nothing changes).
    Everything else is refused with what is the matter; ``renewals.renew`` re-checks holder,
    window and state in the transaction that renews."""
    sender = reply.sender
    assert sender is not None
    choice = await renewal_queries.renewal_of_booking(ctx, booking_id=booking.id)
    if choice is None:
        is_pass = await pass_queries.booking_pass(ctx, booking_id=booking.id) is not None
        return await _refuse(
            ctx, mail, reply, booking, "renew", "renewal_unknown" if is_pass else "renew_not_pass"
        )
    if choice.customer_id != sender.id:  # a colleague of the holder's organization
        return await _refuse(ctx, mail, reply, booking, "renew", "renewal_not_holder")
    if choice.state == "renewed":
        done = {"code": choice.pass_code, "reference": choice.new_reference or "-"}
        return await _refuse(ctx, mail, reply, booking, "renew", "renew_already", done)
    if len(choice.options) > 1:
        if not choice.open_now:
            return await _refuse(ctx, mail, reply, booking, "renew", _shut(choice, ctx))
        offers = reply.answer(
            "mail_renew_options", booking, renewal_id=choice.renewal_id,
            pass_code=choice.pass_code,
        )  # fmt: skip
        return await _answer(ctx, mail, reply, booking, "renew", offers)
    return await _renew_into(ctx, mail, reply, booking, choice)


def _shut(choice: RenewalChoice, ctx: Context) -> str:
    """Why a renewal that is not open now cannot be made (the service's own codes)."""
    closes = choice.closes_at
    if choice.state == "released" or (closes is not None and ctx.clock.now() >= closes):
        return "renewal_window_closed"
    return "renewal_not_open"


async def _renew_into(
    ctx: Context, mail: Received, reply: _Reply, booking: BookingView, choice: RenewalChoice
) -> Outcome:
    sender = reply.sender
    assert sender is not None
    actor = Actor.customer(sender.id, sender.name, "email")
    option = choice.options[0] if choice.options else None
    product_id = option.product_id if option is not None else 0  # none: the service refuses

    async def action(joined: Context) -> BookingView:
        sold = await renewals.renew(
            joined, actor=actor, renewal_id=choice.renewal_id, product_id=product_id
        )
        return await bookings.get_booking(joined, actor=actor, reference=sold.reference)

    def answers(renewed: BookingView) -> Sequence[Answer]:
        # About the renewal's own booking: its pay link, its thread, its reply token.
        name = option.name if option is not None else ""
        return reply.answer("mail_renewed", renewed, pass_code=choice.pass_code, product=name)

    def refusal(error: BookingError) -> Sequence[Answer]:
        return reply.refusal(booking, error.code, error.params)

    acted = await store.act(
        ctx, mail=mail, booking_id=booking.id, customer_id=sender.id, command="renew",
        action=action, answers=answers, refusal=refusal, proven_customer_id=reply.proven,
    )  # fmt: skip
    if acted.duplicate:
        return Outcome("duplicate")
    if acted.error is not None:
        return Outcome("answered", acted.error.code)
    return Outcome("acted", "renew")


async def _act(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    booking: BookingView,
    command: Command,
) -> Outcome:
    sender = reply.sender
    assert sender is not None
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
        action=action, answers=answers, refusal=refusal, proven_customer_id=reply.proven,
    )  # fmt: skip
    if acted.duplicate:
        return Outcome("duplicate")
    if acted.error is not None:
        return Outcome("answered", acted.error.code)
    return Outcome("acted", command.verb.value)


async def _not_owner(ctx: Context, mail: Received, route: Route, reply: _Reply) -> Outcome:
    """Refused; the sender hears why (when we know them, ``answer_to_stranger``) and the
    owner is told."""
    booking, owner = route.booking, route.owner
    assert booking is not None
    answers = answer_to_stranger(reply, booking) if route.sender else []
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


def answer_to_stranger(reply: _Reply, booking: BookingView) -> list[Answer]:
    """Guard (privacy): what a sender who may not act on ``booking`` is told. They may be a
    stranger holding a forwarded email, so the answer is about no booking at all (no
    reference, state, event, places or amount; no reply token; not in that booking's
    thread): only that this address may not act, and what to do."""
    return reply.answer("mail_not_allowed", None)


async def _answer(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    booking: BookingView | None,
    command: str,
    answers: Sequence[Answer],
    *,
    outcome: str = "answered",
) -> Outcome:
    sender = reply.sender
    assert sender is not None
    new = await store.record(
        ctx, mail=mail, booking_id=booking.id if booking else None, customer_id=sender.id,
        command=command, outcome=outcome, answers=answers, proven_customer_id=reply.proven,
    )  # fmt: skip
    return _once(new, Outcome("answered", command or outcome))


async def _refuse(
    ctx: Context,
    mail: Received,
    reply: _Reply,
    booking: BookingView | None,
    command: str,
    code: str,
    params: dict[str, Any] | None = None,
) -> Outcome:
    sender = reply.sender
    assert sender is not None
    new = await store.record(
        ctx, mail=mail, booking_id=booking.id if booking else None, customer_id=sender.id,
        command=command, outcome=code, answers=reply.refusal(booking, code, params or {}),
        proven_customer_id=reply.proven,
    )  # fmt: skip
    return _once(new, Outcome("answered", code))


class _Reply:
    """Answers to the sender's customer record (its registered address: the outbox sends to
    ``customer.email``, never to the ``From`` of the message), threaded under their message.

    ``proven``: the sender's id when this is a genuine reply from the token's own customer,
    which proves their address receives mail (it clears an undeliverable flag)."""

    def __init__(self, parsed: ParsedMessage, route: Route) -> None:
        self.parsed = parsed
        self.sender = route.sender
        genuine = route.allowed and route.sender is not None
        own = genuine and route.sender is not None and route.sender.id == route.token_customer_id
        # Only a flagged record needs clearing: saves a write on every other reply.
        proven = own and route.sender_undeliverable and route.sender is not None
        self.proven = route.sender.id if proven and route.sender is not None else None

    def answer(self, kind: str, booking: BookingView | None, **payload: Any) -> list[Answer]:
        if self.sender is None:
            return []
        subject = safe_subject(self.parsed.subject)
        payload |= {"in_reply_to": self.parsed.message_id, "subject": subject}
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


def _size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit // 1000} kB"


def _kind(kind: classifier.Kind, oversized: bool) -> str:
    if oversized and kind is classifier.Kind.HUMAN:
        return "too_large"
    return kind.value


def _zone(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.timezone)
