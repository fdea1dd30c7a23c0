"""Issue 11, points 15-21 and 23: the email answers as a customer meets them, through real
SMTP and IMAP servers, each in English and in French (every French mail scanned for English
words with tests/support/english.py).

15 HELP is answered with the help; 16 a plain thank-you gets no answer; 17 an ambiguous reply
gets a question; 18 the help says what each keyword needs; 19 the EXTEND example is a day that
booking would get, and dates are day first; 20 their subject is never echoed unsafe; 21 a
refusal's subject says the booking's real state; 23 a non-owner learns nothing of the booking.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pytest

from booking.context import Context
from booking.services import bookings, cancellations, extensions
from booking.views import BookingView, CustomerView
from mail import inbound
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, reply_to, text_of
from tests.support.english import english_in, visible_text
from tests.support.mailservers import ReceivedMessage

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
# What the tests put in the database, and may appear in a French mail as it is.
DATA = ("Test Concert", "Standing", "Ana Test", "Jeanne Dupont", "Jeanne", "Mallory",
        "jeanne@exemple.fr", "ana@example.org", "mallory@example.org", "Salle")  # fmt: skip
SIGNATURE = "\n\n-- \nPaul Martin\nSent from my phone"


async def booked(
    ctx: Context,
    desk: Desk,
    *,
    language: str = "en",
    email: str = "ana@example.org",
    name: str = "Ana Test",
    starts_in: timedelta = timedelta(days=30),
) -> tuple[CustomerView, BookingView, ReceivedMessage]:
    cat = await make_catalog(ctx, starts_in=starts_in)
    customer = await make_customer(ctx, email=email, name=name, language=language)
    booking = await make_held_booking(ctx, cat, customer)
    [held_mail] = await desk.send_out()
    return customer, booking, held_mail


def french(mail: ReceivedMessage) -> str:
    """The plain text of a French mail, after checking its subject, text and HTML hold no
    English word."""
    html = mail.message.get_body(("html",))
    assert html is not None
    parts = [str(mail.message["Subject"]), text_of(mail), visible_text(html.get_content())]
    found = [hit for part in parts for hit in english_in(part, DATA)]
    assert not found, found
    return text_of(mail)


async def status_of(ctx: Context, booking: BookingView) -> str:
    return (await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)).status


def with_subject(raw: bytes, subject: bytes) -> bytes:
    """The reply with its (possibly folded) Subject header replaced by raw bytes."""
    return re.sub(rb"(?m)^Subject:.*(?:\r?\n[ \t].*)*", b"Subject: " + subject, raw, count=1)


# 15 and 18: HELP is the help, and it says what each keyword needs.


@pytest.mark.parametrize(
    ("language", "body", "intro", "not_found", "cancel", "old"),
    [
        ("en", "HELP", "Here are the commands you can write in a reply.",
         "We could not find a command", "CANCEL: then your reason on the same line",
         "one word on the first line"),
        ("fr", "Bonjour,\n\nAIDE", "Voici les commandes que vous pouvez écrire dans une réponse.",
         "Nous n'avons pas trouvé de commande", "ANNULER: puis votre motif sur la même ligne",
         "un mot sur la première ligne"),
    ],
)  # fmt: skip
async def test_help_is_answered_with_the_help_saying_what_each_keyword_needs(
    ctx: Context, desk: Desk, language: str, body: str, intro: str, not_found: str,
    cancel: str, old: str,
) -> None:  # fmt: skip
    _, booking, held = await booked(ctx, desk, language=language)
    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    text = french(answer) if language == "fr" else text_of(answer)
    assert intro in text and not_found not in text
    assert cancel in text and old not in text
    assert await status_of(ctx, booking) == "held"


# 16: a plain thank-you gets no answer at all; a thank-you plus a command is a command.


@pytest.mark.parametrize(
    "body",
    ["thanks!", "Thank you :)" + SIGNATURE, "Hi,\n\nMany thanks!\n\nBest,\nPaul",
     "merci beaucoup", "Bonjour,\n\nMerci beaucoup !\n\nCordialement,\nMarie"],
)  # fmt: skip
async def test_a_plain_thank_you_gets_no_answer_and_changes_nothing(
    ctx: Context, desk: Desk, body: str
) -> None:
    _, booking, held = await booked(ctx, desk)
    report = await desk.receive(reply_to(held, body))  # the original quoted below
    assert dict(report.outcomes) == {"ignored": 1} and report.flagged == 1
    assert await desk.send_out() == []
    assert await status_of(ctx, booking) == "held"
    assert await extensions.list_requests(ctx) == []


@pytest.mark.parametrize(
    ("language", "body", "done"),
    [("en", "Thanks!\n\nCANCEL I cannot come that day", "is cancelled"),
     ("fr", "Merci beaucoup ! ANNULER je suis malade", "annulée")],
)  # fmt: skip
async def test_a_thank_you_with_a_command_is_the_command(
    ctx: Context, desk: Desk, language: str, body: str, done: str
) -> None:
    _, booking, held = await booked(ctx, desk, language=language)
    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"
    [notice] = await desk.send_out()
    assert done in str(notice.message["Subject"])
    if language == "fr":
        french(notice)


# 17: an ambiguous reply gets a question naming the options and how to write each.


@pytest.mark.parametrize(
    ("language", "body", "expected"),
    [
        ("en", "cancel or maybe extend?",
         ["Your email names more than one command (CANCEL, EXTEND), so nothing was changed.",
          "CANCEL: then your reason", "EXTEND: to ask the organizer for more time",
          "For example: EXTEND 8/12"]),
        ("fr", "annuler ou prolonger ?",
         ["Votre message contient plusieurs commandes (ANNULER, PROLONGER)",
          "ANNULER: puis votre motif", "PROLONGER: pour demander un délai",
          "Par exemple : PROLONGER 8/12"]),
    ],
)  # fmt: skip
async def test_an_ambiguous_reply_gets_a_question_and_changes_nothing(
    ctx: Context, desk: Desk, language: str, body: str, expected: list[str]
) -> None:
    _, booking, held = await booked(ctx, desk, language=language)
    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"answered": 1}
    [question] = await desk.send_out()
    text = french(question) if language == "fr" else text_of(question)
    for line in expected:
        assert line in text, text
    assert "PAY" not in text.split("\n-- ")[0].replace("PAYER", "")  # only the two named
    assert await status_of(ctx, booking) == "held"
    assert await extensions.list_requests(ctx) == []


# 19: the EXTEND example is a day this booking would get; day first is explained.


@pytest.mark.parametrize(
    ("language", "word", "day_first"),
    [("en", "EXTEND", "Dates are written day first: 12/10 is 12 October."),
     ("fr", "PROLONGER", "Les dates s'écrivent le jour en premier : 12/10, c'est le 12 octobre.")],
)  # fmt: skip
@pytest.mark.parametrize("starts_in", [timedelta(days=10), timedelta(days=30)])
async def test_the_extend_example_is_a_day_this_booking_would_get(
    ctx: Context, desk: Desk, language: str, word: str, day_first: str, starts_in: timedelta
) -> None:
    _, booking, held = await booked(ctx, desk, language=language, starts_in=starts_in)
    assert dict((await desk.receive(reply_to(held, "HELP"))).outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    text = french(answer) if language == "fr" else text_of(answer)
    assert day_first in text
    found = re.search(rf"{word} (\d+)/(\d+)", text)
    assert found, text
    day = date(2026, int(found.group(2)), int(found.group(1)))
    assert booking.deadline is not None
    assert booking.deadline.date() < day < booking.starts_at.date()  # not a fixed "24/12"

    # Written back as it is shown, the example is accepted for this very booking.
    assert dict((await desk.receive(reply_to(held, found.group(0)))).outcomes) == {"acted": 1}
    [request] = await extensions.list_requests(ctx)
    assert request.requested_until is not None
    assert request.requested_until.astimezone(booking.starts_at.tzinfo).date() >= day
    assert request.reference == booking.reference


@pytest.mark.parametrize(("language", "word"), [("en", "EXTEND"), ("fr", "PROLONGER")])
async def test_extend_is_not_offered_when_no_day_can_be_asked_for(
    ctx: Context, desk: Desk, language: str, word: str
) -> None:
    """The deadline is the end of the day before the show: no later day exists, so neither
    the booking email nor the help offers EXTEND (the other commands still are)."""
    _, booking, held = await booked(ctx, desk, language=language, starts_in=timedelta(days=8))
    assert booking.deadline is not None
    assert (booking.starts_at - booking.deadline) < timedelta(days=1)
    assert dict((await desk.receive(reply_to(held, "HELP"))).outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    text = french(answer) if language == "fr" else text_of(answer)
    for mail_text in (text_of(held), text):
        assert not re.search(rf"(?m)^  {word}\b", mail_text), mail_text
        assert re.search(r"(?m)^  (PAY|PAYER)\b", mail_text), mail_text


# 20: the customer's subject is never echoed unsafe.


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_undecodable_bytes_and_control_characters_never_reach_our_subject(
    ctx: Context, desk: Desk, language: str
) -> None:
    _, _, held = await booked(ctx, desk, language=language)
    keyword = "AIDE" if language == "fr" else "HELP"
    bad = b"Re: Caf\xe9 \xff\xfe\x07 concert \x1b[31m\xe2\x80\xae"
    assert dict((await desk.receive(with_subject(reply_to(held, keyword), bad))).outcomes) == {
        "answered": 1
    }
    [answer] = await desk.send_out()
    subject = str(answer.message["Subject"])
    assert subject.startswith("Re: Caf concert")
    assert "\ufffd" not in subject
    assert not [c for c in subject if unicodedata.category(c) in ("Cc", "Cf")], repr(subject)
    if language == "fr":
        french(answer)


@pytest.mark.parametrize(
    ("language", "own"),
    [("en", "How to use Guichet by email"), ("fr", "Utiliser Guichet par e-mail")],
)
async def test_an_unusable_subject_is_replaced_by_our_own_and_a_long_one_is_bounded(
    ctx: Context, desk: Desk, language: str, own: str
) -> None:
    _, _, held = await booked(ctx, desk, language=language)
    keyword = "AIDE" if language == "fr" else "HELP"
    garbage = with_subject(reply_to(held, keyword), b"\xff\xfe\xfd\xfc \x01\x02")
    long = with_subject(reply_to(held, keyword), b"Re: " + b"concert " * 60)
    assert dict((await desk.receive(garbage, long)).outcomes) == {"answered": 2}
    first, second = sorted(await desk.send_out(), key=lambda m: "Re:" in m.message["Subject"])
    assert str(first.message["Subject"]) == own
    assert str(second.message["Subject"]).startswith("Re: concert concert")
    assert len(str(second.message["Subject"])) <= len("Re: ") + 151
    if language == "fr":
        french(first)
        french(second)


# 21: a refusal's subject says the booking's real state.


@pytest.mark.parametrize(
    ("language", "state", "held_word"),
    [("en", "(cancelled)", "held"), ("fr", "(annulée)", "retenue")],
)
async def test_a_refusal_subject_says_the_booking_is_cancelled_not_held(
    ctx: Context, desk: Desk, language: str, state: str, held_word: str
) -> None:
    _, booking, held = await booked(ctx, desk, language=language)
    assert held_word in str(held.message["Subject"]).lower()  # what they reply to says held
    await cancellations.cancel(ctx, actor=STAFF, reference=booking.reference, reason="other",
                               note="box office")  # fmt: skip
    await desk.send_out()
    body = "PROLONGER 5/12 salaire" if language == "fr" else "EXTEND 5/12 salary"
    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"answered": 1}
    [refusal] = await desk.send_out()
    subject = str(refusal.message["Subject"])
    assert booking.reference in subject and state in subject
    assert held_word not in subject.lower()
    text = french(refusal) if language == "fr" else text_of(refusal)
    # Nothing can be done on a cancelled booking but asking for the status or the help.
    pay = "PAYER" if language == "fr" else "PAY:"
    assert pay not in text


# 23: a non-owner learns nothing of the booking; the owner is told as before.


async def _stranger_writes(
    ctx: Context, desk: Desk, language: str
) -> tuple[BookingView, ReceivedMessage, ReceivedMessage]:
    _, booking, held = await booked(ctx, desk)  # Ana's booking, Ana's token
    await make_customer(ctx, email="mallory@example.org", name="Mallory", language=language)
    raw = reply_to(held, "CANCEL because I say so", sender="mallory@example.org", name="Mallory")
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    sent = {m.rcpt_tos[0]: m for m in await desk.send_out()}
    assert sorted(sent) == ["ana@example.org", "mallory@example.org"]
    return booking, sent["mallory@example.org"], sent["ana@example.org"]


def details_in(mail: ReceivedMessage, booking: BookingView) -> list[str]:
    """What of the booking a mail gives away: its reference (text, subject, thread headers,
    reply token), event, amount, places, deadline."""
    whole = "\n".join([text_of(mail), *(str(v) for v in mail.message.values())])
    found = [v for v in (booking.reference, booking.event_title, "CHF", "Standing") if v in whole]
    found += ["Reply-To"] if mail.message["Reply-To"] else []
    return found + [w for w in ("Pay before", "Payer avant") if w in whole]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "may not act on the booking your email is about"),
     ("fr", "ne peut pas agir sur la réservation dont parle votre message")],
)  # fmt: skip
async def test_a_non_owner_is_refused_without_any_detail_of_the_booking(
    ctx: Context, desk: Desk, language: str, expected: str
) -> None:
    booking, stranger, owner = await _stranger_writes(ctx, desk, language)
    text = french(stranger) if language == "fr" else text_of(stranger)
    assert expected in text
    assert details_in(stranger, booking) == []
    assert "mallory@example.org" in text_of(owner) and booking.reference in text_of(owner)
    assert await status_of(ctx, booking) == "held"


async def test_without_the_guard_the_refusal_leaks_the_booking(
    ctx: Context, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above fails without ``answer_to_stranger``: the old refusal about the
    booking gives its reference, event, places and amount to whoever wrote."""
    monkeypatch.setattr(
        inbound,
        "answer_to_stranger",
        lambda reply, booking: reply.refusal(booking, "not_owner", {}),
    )
    booking, stranger, _ = await _stranger_writes(ctx, desk, "en")
    assert booking.reference in details_in(stranger, booking)
    assert "CHF" in details_in(stranger, booking)
