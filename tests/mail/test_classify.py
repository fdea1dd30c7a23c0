"""classify: a person's reply is answered; auto-replies, bounces and lists never are."""

from __future__ import annotations

from pathlib import Path

import pytest

from mail.classify import Kind, classify, failed_recipients
from mail.parse import ParsedMessage, parse_message

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> ParsedMessage:
    return parse_message((SAMPLES / name).read_bytes(), max_bytes=1_000_000)


def reply(*headers: str, subject: str = "Re: Your booking K7M-4QX") -> ParsedMessage:
    """A plain customer reply, with extra headers."""
    lines = ["From: Paul Martin <paul.martin@example.org>", "To: desk+tok@venue.example",
             f"Subject: {subject}", *headers, "", "PAY"]  # fmt: skip
    return parse_message("\n".join(lines).encode("utf-8"), max_bytes=1_000_000)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("gmail_top_post.eml", Kind.HUMAN),
        ("outlook_html_only_cp1252.eml", Kind.HUMAN),
        ("apple_mail_bottom_post.eml", Kind.HUMAN),
        ("thunderbird_fr_latin1.eml", Kind.HUMAN),
        ("phone_base64_utf8.eml", Kind.HUMAN),
        ("forwarded_booking.eml", Kind.HUMAN),
        ("thanks.eml", Kind.HUMAN),
        ("ooo_french_auto_submitted.eml", Kind.AUTO_REPLY),
        ("outlook_oof.eml", Kind.AUTO_REPLY),
        ("dsn_bounce.eml", Kind.BOUNCE),  # also says Auto-Submitted: the bounce wins
        ("mailing_list.eml", Kind.LIST),
    ],
)
def test_samples_are_classified_like_a_person_would(name: str, kind: Kind) -> None:
    assert classify(sample(name)) is kind


def test_bounce_names_the_failed_customer_address_as_we_sent_it() -> None:
    assert failed_recipients(sample("dsn_bounce.eml")) == ("old.address@example.net",)


def test_human_reply_has_no_failed_recipients() -> None:
    assert failed_recipients(sample("gmail_top_post.eml")) == ()


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: auto-notified; owner-email=marie@example.org",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
    ],
)
def test_auto_reply_headers_mark_an_auto_reply(header: str) -> None:
    assert classify(reply(header)) is Kind.AUTO_REPLY


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: no",
        "Auto-Submitted: No ",
        "X-Autoreply: no",
        "X-Auto-Response-Suppress: DR, RN",
    ],
)
def test_explicitly_negative_auto_headers_leave_a_human_reply(header: str) -> None:
    assert classify(reply(header)) is Kind.HUMAN


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your booking K7M-4QX",
        "Out of the office until 30 November",
        "Automatic reply: Your booking K7M-4QX",
        "Auto: Paul Martin is out of the office",
        "AUTO: Paul Martin est absent",
        "Autoreply: Your booking",
        "Auto-Reply: Your booking",
        "Vacation reply",
        "On vacation until Monday",
        "Réponse automatique : Votre réservation K7M-4QX",
        "REPONSE AUTOMATIQUE: Votre réservation",
        "Absence du bureau",
        "Absent jusqu'au 2 décembre",
        "Absente du 20/11 au 2/12",
        "En congé : Votre réservation",
        "En congés jusqu'au lundi",
        "Message d'absence",
    ],
)
def test_auto_reply_subjects_in_english_and_french(subject: str) -> None:
    assert classify(reply(subject=subject)) is Kind.AUTO_REPLY


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Your booking K7M-4QX",
        "RE: Out of office reply from my colleague",
        "Re: Absent",
        "Absinthe tasting: can I bring a friend?",
        "Autumn season tickets",
        "Automobile parking at the venue",
        "",
    ],
)
def test_ordinary_subjects_stay_human(subject: str) -> None:
    assert classify(reply(subject=subject)) is Kind.HUMAN


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.net",
        "postmaster@example.net",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    ],
)
def test_mail_from_mailer_daemon_or_postmaster_is_a_bounce(sender: str) -> None:
    raw = f"From: {sender}\nSubject: Delivery problem\n\nsorry\n".encode()
    assert classify(parse_message(raw, max_bytes=10_000)) is Kind.BOUNCE


@pytest.mark.parametrize(
    "subject",
    ["Undelivered Mail Returned to Sender", "Undeliverable: Your booking",
     "Delivery Status Notification (Failure)", "Mail delivery failed: returning message to sender",
     "Non remis : Votre réservation", "Échec de la remise : Votre réservation"],
)  # fmt: skip
def test_bounce_subjects_mark_a_bounce(subject: str) -> None:
    assert classify(reply(subject=subject)) is Kind.BOUNCE


def test_empty_return_path_alone_is_a_bounce() -> None:
    assert classify(reply("Return-Path: <>")) is Kind.BOUNCE


def test_empty_return_path_with_auto_submitted_is_an_auto_reply() -> None:
    # RFC 3834 asks responders to send with the null sender too.
    assert classify(reply("Return-Path: <>", "Auto-Submitted: auto-replied")) is Kind.AUTO_REPLY


def dsn(*recipient_blocks: str, headers: str = "") -> ParsedMessage:
    parts = "\n\n".join(["Reporting-MTA: dns; mx.example.net", *recipient_blocks])
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        f"{headers}"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nDelivery report\n"
        f"--b\nContent-Type: message/delivery-status\n\n{parts}\n--b--\n"
    )
    return parse_message(raw.encode(), max_bytes=100_000)


def test_delayed_delivery_is_a_bounce_without_failed_recipients() -> None:
    delayed = dsn("Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.1")
    assert classify(delayed) is Kind.BOUNCE
    assert failed_recipients(delayed) == ()


def test_every_failed_recipient_of_a_report_is_listed_once() -> None:
    report = dsn(
        "Final-Recipient: rfc822; <One@Example.net>\nAction: failed\nStatus: 5.1.1",
        "Final-Recipient: rfc822; ok@example.net\nAction: delivered\nStatus: 2.0.0",
        "Final-Recipient: rfc822;two@example.net\nStatus: 5.2.2",  # no Action: the status says
        "Original-Recipient: rfc822; one@example.net\nFinal-Recipient: rfc822; x@alias.example"
        "\nAction: failed\nStatus: 5.1.1",
    )
    assert failed_recipients(report) == ("one@example.net", "two@example.net")


def test_bounce_forwarded_by_a_customer_is_not_read_as_our_bounce() -> None:
    bounce = (SAMPLES / "dsn_bounce.eml").read_text()
    raw = (
        "From: Paul Martin <paul.martin@example.org>\nTo: desk@venue.example\n"
        'Subject: Fwd: why did this bounce?\nContent-Type: multipart/mixed; boundary="f"\n\n'
        "--f\nContent-Type: text/plain\n\nSTATUS\n"
        f"--f\nContent-Type: message/rfc822\n\n{bounce}\n--f--\n"
    )
    forwarded = parse_message(raw.encode(), max_bytes=1_000_000)
    assert classify(forwarded) is Kind.HUMAN
    assert failed_recipients(forwarded) == ()


def test_exim_failed_recipients_header_is_read_without_a_report() -> None:
    bounce = reply("X-Failed-Recipients: Gone@Example.net, other@example.net")
    assert classify(bounce) is Kind.BOUNCE
    assert failed_recipients(bounce) == ("gone@example.net", "other@example.net")


@pytest.mark.parametrize(
    "header",
    [
        "List-Id: Venue news <news.lists.example.org>",
        "List-Unsubscribe: <mailto:leave@lists.example.org>",
        "List-Unsubscribe: <https://lists.example.org/u/123>",
        "Precedence: list",
    ],
)
def test_list_headers_mark_a_list_message(header: str) -> None:
    assert classify(reply(header)) is Kind.LIST


def test_our_own_list_unsubscribe_does_not_make_a_list() -> None:
    ours = reply(
        "List-Unsubscribe: <https://venue.example/u/abc>, <mailto:desk@mail.venue.example>"
    )
    assert classify(ours, own_domains=["venue.example"]) is Kind.HUMAN
    assert classify(ours) is Kind.LIST  # without knowing our domains, play it safe
    theirs = reply("List-Unsubscribe: <https://venue.example/u/1>, <https://evil.example/u>")
    assert classify(theirs, own_domains=["venue.example"]) is Kind.LIST
