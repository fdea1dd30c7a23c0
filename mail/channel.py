"""The outbox channel for email: gather what a notice shows, render it, send it.

Threading (one conversation per booking in every client): the first "booking held" email's
Message-ID is the booking's thread root; every later email of that booking, a resend of the
booking email included, has a Message-ID of its own and names the root in In-Reply-To and
References, and an answer to a customer's email also names their message.
Reply-To is ``<mailbox>+<signed token>@<domain>``, so a reply says which booking it is about.
The envelope sender of *every* message (with or without a booking: link codes, status
answers) is ``<mailbox>+<bounce token>@<domain>``, bound to the customer and the address it
was sent to, so a bounce says whose message to which address failed (``mail.tokens``).

Names and subjects are cleaned once more (``single_line``) right before they go into a
header: a newline there would end the header and start one of the sender's choosing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email import charset, policy
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr

from booking import renew_links
from booking.actors import Actor
from booking.context import Context
from booking.notices import render as render_notice
from booking.outbox import Unreachable
from booking.pass_pdf import PassFile, pass_file
from booking.qr import qr_png
from booking.queries import passes as pass_queries
from booking.queries import renewals as renewal_queries
from booking.queries.renewals import RenewalChoice
from booking.rules.text import single_line
from booking.services import bookings, checkouts, linking, tickets
from booking.settings_store import secret_key
from booking.views import BookingView, OutboxView
from mail import render as templates
from mail.settings import MailSettings
from mail.smtp import SmtpSender
from mail.tokens import make_bounce_token, make_reply_token, reply_address

log = logging.getLogger(__name__)
MAIL_ACTOR = Actor.system("email")
# Notices that carry a pay link while the booking waits for payment.
PAY_KINDS = frozenset(
    {
        "booking_held",
        "reminder",
        "booking_overdue",
        "extension_approved",
        "extension_denied",
        "deadline_extended",
        "mail_pay_link",
        "mail_renewed",  # answers RENEW about the renewal's own (held) booking
    }
)
TELEGRAM_KINDS = frozenset({"booking_held", "payment_confirmed"})


# Kinds whose address travels in the payload's ``to``, not the customer's registered one.
TO_PAYLOAD_ADDRESS = frozenset({"link_code", "email_changed"})


def recipient_address(message: OutboxView) -> str | None:
    """A link code goes to the address it proves (typed in the bot, not yet the customer's
    email: SPEC §12), the notice of an address replaced to the old address; everything else
    goes to the customer's registered address only."""
    if message.kind in TO_PAYLOAD_ADDRESS:
        to = message.payload.get("to")
        return to if isinstance(to, str) and to else message.customer.email
    return message.customer.email


class EmailChannel:
    """``ctx.channels["email"]``: ``deliver`` renders in the recipient's language and sends."""

    def __init__(self, ctx: Context, settings: MailSettings, sender: SmtpSender) -> None:
        self.ctx = ctx
        self.settings = settings
        self.sender = sender
        self._secret: bytes | None = None

    async def deliver(self, message: OutboxView) -> None:
        address = recipient_address(message)
        if not address:
            raise Unreachable("the customer has no email address")
        content = await self.gather(message)
        email, envelope = await self.compose(content)
        await self.sender.send(email, sender=envelope, recipients=[address])

    async def gather(self, message: OutboxView) -> templates.MailContent:
        booking = message.booking
        pay_url = None
        if booking is not None and booking.is_open and message.kind in PAY_KINDS:
            pay_url = await self.pay_url(booking)
        telegram_url = None
        if (
            self.settings.bot_username
            and message.kind in TELEGRAM_KINDS
            and message.customer.telegram_chat_id is None
        ):
            start = await linking.deep_link_payload(self.ctx, customer_id=message.customer.id)
            telegram_url = f"https://t.me/{self.settings.bot_username.lstrip('@')}?start={start}"
        found: tuple[BookingView, ...] = ()
        pay_urls: dict[str, str] = {}
        if message.kind == "mail_status":
            found = tuple(await bookings.my_bookings(self.ctx, customer_id=message.customer.id))
            for b in found:
                if b.is_open and not b.checkout:
                    pay_urls[b.reference] = await self.pay_url(b)
        renewal, renew_url = await self._renewal(message)
        return templates.MailContent(
            message=message,
            notice=render_notice(message),
            pay_url=pay_url,
            telegram_url=telegram_url,
            tickets=await self._tickets(message),
            bookings=found,
            pay_urls=pay_urls,
            pass_file=await self._pass_file(message),
            renewal=renewal,
            renew_url=renew_url,
            now=self.ctx.clock.now(),
        )

    async def pay_url(self, booking: BookingView) -> str:
        token = await checkouts.pay_link_token(self.ctx, booking=booking)
        return f"{self.settings.public_url.rstrip('/')}/pay/{token}"

    async def compose(self, content: templates.MailContent) -> tuple[bytes, str]:
        """The message as sent on the wire, and its envelope sender."""
        message, s = content.message, self.settings
        rendered = templates.render(content)
        secret = await self._token_secret()
        address = recipient_address(message) or ""
        # A code goes to an address not yet the customer's: no name from the chat's profile.
        name = "" if address != message.customer.email else single_line(message.customer.name)
        bounce = make_bounce_token(secret, message.customer.id, address)
        envelope = reply_address(s.from_address, bounce)
        headers: dict[str, str | Header] = {
            "From": formataddr((single_line(s.from_name), s.from_address), "utf-8"),
            "To": formataddr((name, address), "utf-8"),
            "Subject": _header(single_line(rendered.subject, 250)),
            "Date": format_datetime(self.ctx.clock.now()),
        }
        if message.booking is not None:
            token = make_reply_token(secret, message.booking.reference, message.customer.id)
            replies = reply_address(s.from_address, token)
            headers["Reply-To"] = formataddr((single_line(s.from_name), replies), "utf-8")
        headers |= self._thread(message)
        # RFC 3834: nobody should auto-answer us; Exchange honours its own header for that.
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
        headers["Content-Language"] = message.locale
        root = _body(rendered, content.tickets, content.pass_file)
        for name, value in headers.items():
            root[name] = value  # type: ignore[assignment]  # compat32 takes Header objects
        return root.as_bytes(policy=WIRE), envelope

    def _thread(self, message: OutboxView) -> dict[str, str]:
        domain = self.settings.domain
        theirs = str(message.payload.get("in_reply_to") or "")
        theirs_ref = f"<{theirs}>" if theirs else ""
        if message.booking is None:
            headers = {"Message-ID": f"<guichet.{message.kind}.{message.id}@{domain}>"}
            if theirs_ref:
                headers |= {"In-Reply-To": theirs_ref, "References": theirs_ref}
            return headers
        root = f"<booking.{message.booking.reference}@{domain}>"
        if message.kind == "booking_held" and not message.payload.get("resent"):
            return {"Message-ID": root}
        # A resend (and every later email) has its own Message-ID: a client that has seen an
        # id drops the second copy silently (Gmail does). In-Reply-To and References name the
        # root, so the resend still lands in the booking's conversation.
        return {
            "Message-ID": f"<{message.booking.reference}.{message.kind}.{message.id}@{domain}>",
            "In-Reply-To": theirs_ref or root,
            "References": f"{root} {theirs_ref}".strip(),
        }

    async def _tickets(self, message: OutboxView) -> tuple[templates.Ticket, ...]:
        if message.kind != "payment_confirmed" or message.booking is None:
            return ()
        found = await tickets.list_tickets(
            self.ctx,
            actor=MAIL_ACTOR,
            customer_id=message.customer.id,
            reference=message.booking.reference,
        )
        return tuple(
            templates.Ticket(
                view=t,
                png=qr_png(t.url),
                cid=f"ticket{n}.{message.id}@{self.settings.domain}",
                filename=f"ticket-{t.reference}-{n}.png",
            )
            for n, t in enumerate(found, 1)
        )

    async def _pass_file(self, message: OutboxView) -> PassFile | None:
        """A paid pass booking carries the pass itself, as the A4 PDF (no ticket per date:
        the pass's own QR admits)."""
        if message.kind != "payment_confirmed" or message.booking is None:
            return None
        pass_id = await pass_queries.booking_pass(self.ctx, booking_id=message.booking.id)
        if pass_id is None:
            return None
        return await pass_file(self.ctx, pass_id=pass_id, language=message.locale)

    async def _renewal(self, message: OutboxView) -> tuple[RenewalChoice | None, str | None]:
        """A renewal notice (or a RENEW answer listing the offers): the renewal as it stands
        now, and the signed link of its page, valid until the window closes. A released
        renewal gets no link: there is nothing left to do on the page."""
        if message.kind not in templates.RENEWAL_KINDS | templates.RENEW_INVITING:
            return None, None
        renewal_id = message.payload.get("renewal_id")
        if not isinstance(renewal_id, int):
            return None, None
        choice = await renewal_queries.renewal_choice(self.ctx, renewal_id=renewal_id)
        if choice is None or message.kind == "renewal_released":
            return choice, None
        now = self.ctx.clock.now()
        expires = renew_links.expiry(choice.closes_at or _closes(message), now)
        token = await renew_links.renew_token(self.ctx, renewal_id, expires=expires)
        return choice, f"{self.settings.public_url.rstrip('/')}{renew_links.PATH}{token}"

    async def _token_secret(self) -> bytes:
        if self._secret is None:  # read once: it never changes while the process runs
            self._secret = (await secret_key(self.ctx)).encode()
        return self._secret


# The compat32 MIME classes build a message about 2.5 times faster than EmailMessage (no
# header parsing), which matters at hundreds of emails a minute; bodies are quoted-printable
# so the text stays readable in the raw source.
_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP
WIRE = policy.compat32.clone(linesep="\r\n")


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def _text(text: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part.set_payload(text, _UTF8)
    return part


def _closes(message: OutboxView) -> datetime | None:
    """The window's close the notice was enqueued with (payload ``closes_at``, ISO)."""
    value = message.payload.get("closes_at")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _body(
    rendered: templates.Rendered,
    tickets: tuple[templates.Ticket, ...],
    pass_pdf: PassFile | None = None,
) -> Message:
    """multipart/alternative (text, HTML); with tickets, the HTML is multipart/related with
    the QR codes inline, and the whole is multipart/mixed with the same PNGs attached; a
    pass's PDF is attached the same way (multipart/mixed)."""
    html: Message = _text(rendered.html, "html")
    if tickets:
        related = MIMEMultipart("related")
        related.attach(html)
        for ticket in tickets:
            image = MIMEImage(ticket.png, "png")
            image["Content-ID"] = f"<{ticket.cid}>"
            image.add_header("Content-Disposition", "inline")
            related.attach(image)
        html = related
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text(rendered.text, "plain"))
    alternative.attach(html)
    if not tickets and pass_pdf is None:
        return alternative
    mixed = MIMEMultipart("mixed")
    mixed.attach(alternative)
    for ticket in tickets:
        attachment = MIMEImage(ticket.png, "png")
        attachment.add_header("Content-Disposition", "attachment", filename=ticket.filename)
        mixed.attach(attachment)
    if pass_pdf is not None:
        document = MIMEApplication(pass_pdf.pdf, "pdf")
        document.add_header("Content-Disposition", "attachment", filename=pass_pdf.filename)
        mixed.attach(document)
    return mixed
