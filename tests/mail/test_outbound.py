"""Outbound email through the outbox: content, headers, languages, and SMTP failures sorted
into "retry later" and "address dead" (never a lost message)."""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.notices import SUBJECTS
from booking.rules.formatting import money
from booking.services import bookings, cancellations, customers, linking
from booking.views import OutboxView
from mail.channel import EmailChannel
from mail.render import ANSWER_KINDS
from mail.smtp import SmtpSender
from mail.tokens import MAX_LOCAL_PART, address_digest, read_bounce_token, read_reply_token
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import DESK, deliver, settings_for, text_of
from tests.support.mailservers import SmtpRecorder

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[2]


async def test_booking_held_email_has_everything_to_act_on_it(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = await make_held_booking(ctx, cat, ana, quantity=3)
    assert (await deliver(ctx)).sent == 1
    [mail] = await smtp_server.wait_for_count(1)
    message = mail.message
    assert message["From"] == f"Salle Test <{DESK}>"
    assert message["To"] == "Ana Test <ana@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == f"<booking.{held.reference}@venue.example>"
    reply_to = message["Reply-To"].addresses[0]
    local = reply_to.username
    assert local.startswith("desk+") and len(local) <= MAX_LOCAL_PART
    claims = read_reply_token(b"test-secret", local.split("+", 1)[1])
    assert claims is not None and claims.booking_ref == held.reference
    # Bounces come back on a token of their own, bound to the customer and the address.
    bounce = read_bounce_token(b"test-secret", mail.mail_from.split("@")[0].split("+", 1)[1])
    assert bounce is not None and bounce.customer_id == ana.id
    assert bounce.address_digest == address_digest(b"test-secret", "ana@example.org")
    text = text_of(mail)
    for expected in (
        f"3 × Standing, {money(4500, 'CHF', 'en')} each",
        f"Total: {money(13500, 'CHF', 'en')}",
        "Pay before: Mon 30 Nov 2026, 23:59 (Switzerland Time)",  # the venue's place
        "https://tickets.venue.example/pay/",
        "https://t.me/GuichetTestBot?start=",
        "PAY: to receive the payment link",
        "CANCEL: then your reason on the same line",
        # A day this booking would get (a week after its deadline), and how to read it.
        "EXTEND: to ask the organizer for more time",
        "For example: EXTEND 8/12",  # deadline 30/11 23:59: a week after 1/12
        "Dates are written day first: 12/10 is 12 October.",
    ):
        assert expected in text, expected
    html = message.get_body(("html",))
    assert html is not None and money(13500, "CHF", "en") in html.get_content()  # type: ignore[attr-defined]


async def test_french_customers_get_french_emails(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    cat = await make_catalog(ctx)
    await make_held_booking(ctx, cat, await make_customer(ctx, language="fr"))
    await deliver(ctx)
    [mail] = await smtp_server.wait_for_count(1)
    text = text_of(mail)
    assert "Bonjour Ana," in text and "PAYER : " not in text and "PAYER:" in text
    assert "lun. 30 nov. 2026, 23:59" in text
    assert "réservation" in str(mail.message["Subject"]).lower()


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_every_kind_renders_in_both_languages(
    ctx: Context, channel: EmailChannel, locale: str
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, language=locale)
    held = await make_held_booking(ctx, cat, ana)
    customer = await customers.get_customer(ctx, customer_id=ana.id)
    payloads = {
        "link_code": {"code": "123456"},
        "email_changed": {"new_address": "n***@example.org"},
        "mail_refusal": {"code": "deadline_passed", "params": {}},
        "mail_too_large": {"limit": "5 MB"},
        "mail_not_owner": {"sender": "x@example.com"},
        "mail_forged": {"sender": "x@example.com"},
        "mail_done": {"action": "extension_approved", "until": "2026-12-20T22:59:59+00:00"},
        "mail_extension_requested": {"until": "2026-12-20T22:59:59+00:00"},
        "extension_approved": {"until": "2026-12-20T22:59:59+00:00"},
        "resale_closed": {
            "pass_code": "PX7K2M",
            "listed_event": "Opera",
            "listed_at": "2026-12-20T19:00:00+00:00",
            "listed_tz": "Europe/Zurich",
        },
    }
    for n, kind in enumerate([*SUBJECTS, *ANSWER_KINDS, "unknown_kind"]):
        view = OutboxView(n, kind, "email", locale, 0, payloads.get(kind, {}), customer, held)
        raw, _ = await channel.compose(await channel.gather(view))
        email = message_from_bytes(raw, policy=policy.default)
        subject = str(email["Subject"])
        body = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert subject and "{" not in subject and "%(" not in subject, (kind, subject)
        assert "{" not in body and "%(" not in body and " -\n" not in body, (kind, body)
        if locale == "fr":
            assert "Bonjour" in body and "Hello" not in body, (kind, body)


async def test_a_temporary_refusal_is_retried_and_then_delivered(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder, clock: FrozenClock
) -> None:
    cat = await make_catalog(ctx)
    await make_held_booking(ctx, cat, await make_customer(ctx))
    smtp_server.refuse_next(1, 451)
    first = await deliver(ctx)
    assert (first.sent, first.retried) == (0, 1)
    assert "451" in first.errors[0]
    clock.advance(dt.timedelta(seconds=31))
    assert (await deliver(ctx)).sent == 1
    assert len(await smtp_server.wait_for_count(1)) == 1


async def test_a_permanent_recipient_refusal_marks_the_address_undeliverable(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = await make_held_booking(ctx, cat, ana)
    smtp_server.refuse_next(1, 550, stage="RCPT")
    assert (await deliver(ctx)).dead == 1
    # Later notices skip the dead address (no Telegram linked: nothing is queued).
    await cancellations.cancel(ctx, actor=Actor.customer(ana.id, ana.name, "email"),
                               reference=held.reference, reason="mistake")  # fmt: skip
    assert (await deliver(ctx)).sent == 0
    assert smtp_server.messages == []


async def test_a_server_that_is_down_means_retry_later(
    ctx: Context, smtp_server: SmtpRecorder
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings = settings_for(smtp_server, smtp_port=closed_port, smtp_timeout=2)
    sender = SmtpSender(settings)
    ctx.channels["email"] = EmailChannel(ctx, settings, sender)
    cat = await make_catalog(ctx)
    await make_held_booking(ctx, cat, await make_customer(ctx))
    report = await deliver(ctx)
    assert (report.sent, report.retried, report.dead) == (0, 1, 0)
    assert "unavailable" in report.errors[0]
    await sender.close()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for 127.0.0.1, and the file a client trusts it from."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, cert_path


@pytest.mark.parametrize("password", ["s3cret", "wrong"])
async def test_starttls_and_login(
    ctx: Context, tls_files: tuple[ssl.SSLContext, Path], password: str
) -> None:
    server_tls, cert = tls_files
    async with SmtpRecorder(auth=("desk", "s3cret"), tls_context=server_tls) as smtp:
        settings = settings_for(smtp, smtp_tls="starttls", smtp_ca_file=str(cert),
                                smtp_user="desk", smtp_password=password)  # fmt: skip
        sender = SmtpSender(settings)
        ctx.channels["email"] = EmailChannel(ctx, settings, sender)
        cat = await make_catalog(ctx)
        await make_held_booking(ctx, cat, await make_customer(ctx))
        report = await deliver(ctx)
        await sender.close()
        if password == "wrong":
            assert (report.sent, report.retried) == (0, 1)
            assert "login refused" in report.errors[0] and "s3cret" not in report.errors[0]
            return
        assert report.sent == 1
        [mail] = await smtp.wait_for_count(1)
        assert mail.login == "desk"


async def test_payment_confirmation_for_an_organization_goes_to_the_booking_contact(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    org = await customers.create_organization(ctx, actor=STAFF, name="Org")
    anne = await make_customer(ctx, email="anne@org.example", organization_id=org,
                               customer_type="b2b")  # fmt: skip
    held = await make_held_booking(ctx, await make_catalog(ctx), anne)
    from booking.services import payments

    await payments.record_box_office_payment(ctx, actor=STAFF, reference=held.reference,
                                             method="cash")  # fmt: skip
    await deliver(ctx)
    mails = await smtp_server.wait_for_count(2)
    paid = next(m for m in mails if "paid" in str(m.message["Subject"]))
    assert paid.rcpt_tos == ["anne@org.example"]
    assert len([p for p in paid.message.walk() if p.get_filename()]) == 2
    assert (await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)).status == (
        "confirmed"
    )


async def test_a_code_for_an_address_typed_in_the_bot_is_mailed_to_that_address(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    """The address is not the chat customer's yet (SPEC §12), so the code must go to it, and
    only the code: the chat's Telegram record has no email of its own."""
    chat = await linking.register_telegram_customer(
        ctx, telegram_user_id=4242, chat_id=4242, name="Zoé", language="fr"
    )
    assert chat.email is None
    await linking.send_link_code(
        ctx, email="zoe@example.org", telegram_user_id=4242, chat_id=4242, name="Zoé",
        language="fr",
    )  # fmt: skip
    assert (await deliver(ctx)).sent == 1
    [mail] = await smtp_server.wait_for_count(1)
    assert mail.rcpt_tos == ["zoe@example.org"]
    assert mail.message["To"] == "zoe@example.org"
    assert "Zoé" not in str(mail.message["To"])


async def test_an_address_replaced_in_the_bot_is_told_at_that_old_address_only(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    """Whoever holds the Telegram account proves the new address with its code; the old
    address's owner may be someone else, so the old address hears of the change, and the new
    one is shown masked."""
    ana = await make_customer(ctx, email="ana@example.org", language="fr")
    await customers.link_telegram(
        ctx, actor=STAFF, customer_id=ana.id, telegram_user_id=4243, chat_id=4243
    )
    await linking.send_link_code(
        ctx, email="new@example.org", telegram_user_id=4243, chat_id=4243, name="Ana",
        language="fr", replacing=True,
    )  # fmt: skip
    await deliver(ctx)
    [code_mail] = await smtp_server.wait_for_count(1)
    code = re.search(r"\b(\d{6})\b", text_of(code_mail))
    assert code is not None
    await linking.confirm_link_code(
        ctx, telegram_user_id=4243, chat_id=4243, code=code.group(1), replacing=True
    )

    assert (await deliver(ctx)).sent == 1
    mails = await smtp_server.wait_for_count(2)
    told = mails[-1]
    assert told.rcpt_tos == ["ana@example.org"] and told.message["To"] == "ana@example.org"
    text = text_of(told)
    assert "n***@example.org" in text and "new@example.org" not in text
    assert "changée" in str(told.message["Subject"])
