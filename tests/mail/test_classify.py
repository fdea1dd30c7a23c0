"""classify: a person's reply is answered; auto-replies, bounces and lists never are."""

from __future__ import annotations

from pathlib import Path

import pytest

from mail import classify as classifier_module
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


# --- Issue 9: machine mail is never answered ---------------------------------------------

MACHINE = SAMPLES / "machine"
CUSTOMER = "claire.morel@example.net"
# Every sample of tests/mail/samples/machine and the kind it must be recorded as
# (tests/mail/test_machine_mail.py runs each one end to end).
MACHINE_KINDS: dict[str, Kind] = {
    # multipart/report, whatever its report-type
    "dsn_exchange_undeliverable.eml": Kind.BOUNCE,  # delivery-status
    "x3_delivery_status_notification.eml": Kind.BOUNCE,  # no report-type at all
    "arf_abuse_report.eml": Kind.REPORT,  # feedback-report, Feedback-Type: abuse
    "dmarc_failure_report.eml": Kind.REPORT,  # feedback-report, Feedback-Type: auth-failure
    "mdn_read_receipt.eml": Kind.REPORT,  # disposition-notification, from the customer
    "mdn_accuse_de_lecture.eml": Kind.REPORT,  # the same, Thunderbird in French
    # DMARC aggregate reports: ordinary mail with the XML zipped or gzipped
    "dmarc_aggregate_google_zip.eml": Kind.REPORT,
    "dmarc_aggregate_gzip.eml": Kind.REPORT,
    # challenge-response
    "challenge_boxbe.eml": Kind.CHALLENGE,
    "challenge_spamarrest.eml": Kind.CHALLENGE,
    "challenge_mailinblack.eml": Kind.CHALLENGE,
    "challenge_choicemail.eml": Kind.CHALLENGE,  # "Re:", threaded, from the customer
    "challenge_boxtrapper.eml": Kind.CHALLENGE,
    "challenge_tmda.eml": Kind.CHALLENGE,
    "challenge_fr_wording_only.eml": Kind.CHALLENGE,  # no header sign, wording only
    # mail systems and the null sender
    "mailer_daemon_qmail.eml": Kind.BOUNCE,
    "postmaster_notice.eml": Kind.BOUNCE,  # "Re:" subject, threaded: the sender decides
    "post_master_notice.eml": Kind.BOUNCE,
    "null_sender_notice_fr.eml": Kind.BOUNCE,
    # bounce formats that break RFC 3464
    "ses_sns_bounce.eml": Kind.BOUNCE,
    "ses_sns_complaint_json.eml": Kind.REPORT,
    "fml_not_member.eml": Kind.BOUNCE,
    "james_bounce.eml": Kind.BOUNCE,
    "kddi_auone.eml": Kind.BOUNCE,
    "kddi_au_postmaster.eml": Kind.BOUNCE,
    "verizon_vtext.eml": Kind.BOUNCE,  # "Re:" subject, JavaMail id, post_master
    "verizon_vzwpix.eml": Kind.BOUNCE,
}


def machine_raw(name: str) -> bytes:
    return (MACHINE / name).read_bytes()


def machine(name: str) -> ParsedMessage:
    return parse_message(machine_raw(name), max_bytes=1_000_000)


def edited(raw: bytes, **headers: str | None) -> ParsedMessage:
    """``raw`` with header fields replaced (a value) or removed (None); ``content_type=``
    stands for Content-Type. Only the header section is touched."""
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8").split("\n")
    for key, value in headers.items():
        name = key.replace("_", "-").lower()
        kept: list[str] = []
        skipping = False
        for line in lines:
            if line[:1] in (" ", "\t") and skipping:
                continue  # a folded continuation of the field being replaced
            skipping = line.lower().startswith(f"{name}:")
            if not skipping:
                kept.append(line)
        if value is not None:
            kept.append(f"{key.replace('_', '-')}: {value}")
        lines = kept
    return parse_message("\n".join(lines).encode() + b"\n\n" + body, max_bytes=1_000_000)


def message(*headers: str, body: str = "PAY", subject: str = "Hello") -> ParsedMessage:
    """A new message (not a reply) from a person, with extra headers (a From among them
    replaces the customer's)."""
    given = any(h.startswith("From:") for h in headers)
    sender = [] if given else [f"From: Claire Morel <{CUSTOMER}>"]
    lines = [*sender, "To: desk+tok@venue.example", f"Subject: {subject}", *headers,
             "Content-Type: text/plain; charset=utf-8", "", body]  # fmt: skip
    return parse_message("\n".join(lines).encode("utf-8"), max_bytes=1_000_000)


def threaded(body: str, *headers: str, subject: str = "Re: Your booking Z9Q-6RV") -> ParsedMessage:
    """A person's reply to one of our emails: "Re:" subject, In-Reply-To and References."""
    ours = "<booking.Z9Q-6RV@venue.example>"
    return message(f"In-Reply-To: {ours}", f"References: {ours}", *headers, body=body,
                   subject=subject)  # fmt: skip


def test_every_machine_sample_has_an_expected_kind() -> None:
    assert sorted(p.name for p in MACHINE.glob("*.eml")) == sorted(MACHINE_KINDS)


@pytest.mark.parametrize(("name", "kind"), sorted(MACHINE_KINDS.items()))
def test_machine_samples_are_never_human(name: str, kind: Kind) -> None:
    assert classify(machine(name)) is kind


@pytest.mark.parametrize(
    ("name", "failed"),
    [
        ("dsn_exchange_undeliverable.eml", (CUSTOMER,)),
        ("ses_sns_bounce.eml", (CUSTOMER,)),  # bouncedRecipients of a Permanent bounce
        ("ses_sns_complaint_json.eml", ()),  # the complainer did receive the mail
        ("x3_delivery_status_notification.eml", (CUSTOMER,)),
        ("james_bounce.eml", (CUSTOMER,)),
        ("verizon_vtext.eml", (CUSTOMER,)),
        ("verizon_vzwpix.eml", (CUSTOMER,)),
        ("kddi_auone.eml", (CUSTOMER,)),
        ("kddi_au_postmaster.eml", (CUSTOMER,)),
        ("fml_not_member.eml", ("concerts@lists.example.net",)),  # the list that refused
        ("mailer_daemon_qmail.eml", ()),  # qmail's text is not read: recorded, unmarked
        ("arf_abuse_report.eml", ()),
        ("mdn_read_receipt.eml", ()),
        ("challenge_spamarrest.eml", ()),
    ],
)
def test_failed_recipients_are_read_from_each_format(name: str, failed: tuple[str, ...]) -> None:
    assert failed_recipients(machine(name)) == failed


@pytest.mark.parametrize(
    ("report_type", "kind"),
    [
        ("delivery-status", Kind.BOUNCE),
        ("", Kind.BOUNCE),
        ("feedback-report", Kind.REPORT),
        ("disposition-notification", Kind.REPORT),
        ("tlsrpt", Kind.REPORT),
        ("something-new", Kind.REPORT),
    ],
)
def test_every_multipart_report_is_machine_mail_whatever_its_type(
    report_type: str, kind: Kind
) -> None:
    # From the customer, threaded, "Re:": only the report structure says it is a machine.
    parameter = f"; report-type={report_type}" if report_type else ""
    raw = (
        "From: Claire Morel <claire.morel@example.net>\nTo: desk+tok@venue.example\n"
        "Subject: Re: Your booking Z9Q-6RV\nIn-Reply-To: <booking.Z9Q-6RV@venue.example>\n"
        f'Content-Type: multipart/report{parameter}; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nCANCEL\n--r\nContent-Type: text/plain\n\nx\n--r--\n"
    )
    assert classify(parse_message(raw.encode(), max_bytes=100_000)) is kind


def test_ses_json_body_is_recognised_without_any_sns_header() -> None:
    bare = edited(
        machine_raw("ses_sns_bounce.eml"),
        From="Ops <ops@example.com>", x_amz_sns_message_id=None, x_amz_sns_subscription_arn=None,
        Return_Path=None,
    )  # fmt: skip
    assert classify(bare) is Kind.BOUNCE
    assert failed_recipients(bare) == (CUSTOMER,)


def test_sns_headers_alone_make_a_report() -> None:
    notice = message("x-amz-sns-message-type: Notification", body="An alarm went off.")
    assert classify(notice) is Kind.REPORT


def test_ses_transient_bounce_names_nobody() -> None:
    body = (
        '{"notificationType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":'
        '"MailboxFull","bouncedRecipients":[{"emailAddress":"claire.morel@example.net"}]}}'
    )
    soft = message(body=body)
    assert classify(soft) is Kind.BOUNCE
    assert failed_recipients(soft) == ()


@pytest.mark.parametrize(
    "body",
    [
        '{"notificationType": ' + "[" * 100_000,  # json raises RecursionError on this
        '{"notificationType": "Bounce", "bounce": {"bouncedRecipients": "nope"}',  # broken
        '{"notificationType": "Bounce", "bounce": ["not", "an", "object"]}',
        "[1, 2]",
    ],
)
def test_hostile_json_bodies_never_raise(body: str) -> None:
    parsed = message(body=body)
    classify(parsed)
    assert failed_recipients(parsed) == ()


def test_x3_is_read_without_its_multipart_report_or_daemon_return_path() -> None:
    boundary = "------------0000000000000_000000000000"
    bare = edited(machine_raw("x3_delivery_status_notification.eml"), Return_Path=None,
                  Content_Type=f'multipart/mixed; boundary="{boundary}"')  # fmt: skip
    assert classify(bare) is Kind.BOUNCE
    assert failed_recipients(bare) == (CUSTOMER,)


def test_x3_reads_only_the_failed_block() -> None:
    raw = machine_raw("x3_delivery_status_notification.eml").replace(
        b"                             Technical details:",
        b"   * helpdesk@mx44.example.net\n                             Technical",
    )
    assert failed_recipients(parse_message(raw, max_bytes=100_000)) == (CUSTOMER,)


@pytest.mark.parametrize("subject", ["[BOUNCE]", "Delivery problem"])
def test_james_is_read_by_its_subject_or_its_javamail_id_and_details(subject: str) -> None:
    bare = edited(machine_raw("james_bounce.eml"), Return_Path=None, Subject=subject)
    assert classify(bare) is Kind.BOUNCE
    assert failed_recipients(bare) == (CUSTOMER,)


def test_james_format_rule_is_what_catches_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Companion: without the format rule, the same bounce reads as a person's mail."""
    bare = edited(machine_raw("james_bounce.eml"), Return_Path=None, Subject="Delivery problem")
    monkeypatch.setattr(classifier_module, "_bounce_format", lambda msg: None)
    assert classify(bare) is Kind.HUMAN


@pytest.mark.parametrize(
    "headers",
    [{"Reply_To": None}, {"From": "au one net <mailer@example.com>"}],
    ids=["dion.ne.jp sender", "auone Reply-To"],
)
def test_kddi_is_read_by_its_sender_or_its_reply_to(headers: dict[str, str | None]) -> None:
    bare = edited(machine_raw("kddi_auone.eml"), **headers)
    assert classify(bare) is Kind.BOUNCE
    assert failed_recipients(bare) == (CUSTOMER,)


def test_fml_error_is_a_bounce_and_its_posts_are_a_list() -> None:
    assert classify(machine("fml_not_member.eml")) is Kind.BOUNCE
    post = message("X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]", "X-ML-Name: concerts")
    assert classify(post) is Kind.LIST


@pytest.mark.parametrize(
    "headers",
    [
        ("From: post_master@mail.example.com",),
        ("From: POST_MASTER@mail.example.com",),
        ("From: PostMaster <PostMaster@example.net>",),
        ("From: Mailer-Daemon@example.net",),
        ("Return-Path: <MAILER-DAEMON>",),  # the envelope sender, unqualified (sendmail)
        ("Return-Path: <postmaster@mx.example.net>",),
    ],
)
def test_mail_system_senders_are_bounces_even_in_a_threaded_reply(headers: tuple[str]) -> None:
    body = "Your message was delivered to a mailbox that is full."
    assert classify(threaded(body, *headers)) is Kind.BOUNCE


def test_a_person_named_like_a_daemon_elsewhere_is_a_person() -> None:
    reply = threaded("PAY", "Return-Path: <postmaster-news@example.net>")
    assert classify(reply) is Kind.HUMAN


@pytest.mark.parametrize("return_path", ["<>", "< >", ""])
def test_the_null_envelope_sender_is_never_a_person(return_path: str) -> None:
    assert classify(threaded("Thanks, PAY", f"Return-Path: {return_path}")) is Kind.BOUNCE


@pytest.mark.parametrize(
    "subject",
    [
        "Report domain: venue.example Submitter: google.com Report-ID: 4419375163093624104",
        "Report Domain: venue.example Submitter: mail.example.com Report-ID: <a7Qk>",
        "Report Domain: venue.example Submitter: enterprise.protection.outlook.com",
    ],
)
def test_dmarc_aggregate_subjects_make_a_report(subject: str) -> None:
    assert classify(message(subject=subject, body="")) is Kind.REPORT


def test_a_dmarc_sender_with_an_archive_and_no_usual_subject_is_a_report() -> None:
    report = edited(machine_raw("dmarc_aggregate_gzip.eml"), Subject="DMARC report")
    assert classify(report) is Kind.REPORT


def test_a_customer_forwarding_a_dmarc_report_is_a_person() -> None:
    forwarded = message(subject="Fwd: Report domain: venue.example Submitter: google.com",
                        body="Is this yours? STATUS")  # fmt: skip
    assert classify(forwarded) is Kind.HUMAN


# Challenge-response: header signs are enough on their own.
@pytest.mark.parametrize(
    "headers",
    [
        ("Preference: auto_reply",),  # cPanel BoxTrapper
        ("X-Delivery-Agent: TMDA/1.1.12 (Macallan)",),
        ("Return-Path: <verify@spamarrest.com>",),
        ("Reply-To: Boxbe <notify@boxbe.com>",),
        ("Message-ID: <mib.6c2d91e4@mailinblack.com>",),
    ],
)
def test_challenge_header_signs(headers: tuple[str]) -> None:
    assert classify(threaded("Hello", *headers)) is Kind.CHALLENGE


@pytest.mark.parametrize(
    "subject",
    ["Your email requires verification verify#a3c5e7f9b1d24e6f", "Please confirm your message"],
)
def test_challenge_subjects(subject: str) -> None:
    assert classify(message(subject=subject, body="")) is Kind.CHALLENGE


@pytest.mark.parametrize(
    "body",
    [
        "Please confirm you are human: click here to be added to my approved senders.",
        "To verify that you are a real person, reply to this message.",
        "I apologize for this automatic reply to your email.",
        "I now allow incoming messages only from senders I have approved beforehand.",
        "Merci de vous authentifier en cliquant sur le lien ci-dessous.",
        "Merci de confirmer que vous n\u2019êtes pas un robot.",
        "Pour me protéger des spams, je n'accepte que les messages des expéditeurs autorisés.",
        "Votre message a été mis en attente.",
        "I only accept e-mails from people on my list.",
        "Click below to join my guest list.",
        "Approved senders list: you are not on it yet.",
        "Your message requires verification.",
        "I use a permission-based spam blocker.",
        "This address is protected by a challenge-response system.",
        "Protected by Boxbe.",
        "Authentifiez-vous pour que votre courriel soit remis.",
        "Authentification de l'expéditeur nécessaire.",
    ],
)
def test_challenge_wording_in_a_new_message(body: str) -> None:
    assert classify(message(body=f"Bonjour / Hello,\n\n{body}\n")) is Kind.CHALLENGE


def test_a_threaded_challenge_with_a_link_is_still_a_challenge() -> None:
    body = "Please confirm you are human: https://register.example.net/cm?id=5d0e77"
    assert classify(threaded(body)) is Kind.CHALLENGE


def test_a_threaded_challenge_marked_automatic_is_still_a_challenge() -> None:
    body = "Please confirm you are human by replying to this message."
    assert classify(threaded(body, "Auto-Submitted: auto-replied")) is Kind.CHALLENGE


# People: quoting a challenge or a bounce, or talking about one, is not being one.
QUOTED_CHALLENGE_EN = (
    "PAY please, and sorry about my spam filter.\n\n"
    "On Mon, 23 Nov 2026 at 10:02, Claire Morel <claire.morel@example.net> wrote:\n"
    "> I apologize for this automatic reply to your email.\n"
    "> Please confirm you are human: click here to be added to my approved senders\n"
    "> https://register.example.net/cm?id=5d0e77\n"
)
QUOTED_CHALLENGE_FR = (
    "Désolée pour ce message automatique, je l'ai désactivé. STATUT\n\n"
    "Le lun. 23 nov. 2026 à 10:02, Claire Morel <claire.morel@example.net> a écrit :\n"
    "> Votre message est en attente. Afin qu'il me soit délivré, merci de vous\n"
    "> authentifier en cliquant sur le lien ci-dessous et en confirmant que vous\n"
    "> n'êtes pas un robot : https://secure.mailinblack.com/authentification?id=1\n"
)


@pytest.mark.parametrize("body", [QUOTED_CHALLENGE_EN, QUOTED_CHALLENGE_FR], ids=["en", "fr"])
def test_a_reply_quoting_a_challenge_is_a_person(body: str) -> None:
    assert classify(threaded(body)) is Kind.HUMAN
    assert classify(message(body=body)) is Kind.HUMAN  # the quote alone decides, threaded or not


def test_quote_stripping_is_what_keeps_the_quoting_reply_human(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Companion: read the quote as the sender's own words and the reply looks like a
    challenge (and the threading rule does not save it: the quote has a link)."""
    monkeypatch.setattr(classifier_module, "strip_reply", lambda text: text)
    assert classify(threaded(QUOTED_CHALLENGE_EN)) is Kind.CHALLENGE


OWN_WORDS = [
    "I got a mail from your side asking me to confirm you are human, click here to be added "
    "to my approved senders... was that my own spam filter? Anyway: PAY",
    "Mon antispam vous a demandé de « confirmer que vous êtes un humain », c'est lui, "
    "pardon. Je confirme : ANNULER je suis malade",
]


@pytest.mark.parametrize("body", OWN_WORDS, ids=["en", "fr"])
@pytest.mark.parametrize("subject", ["Re: Your booking Z9Q-6RV", "RE : Votre réservation"])
def test_a_threaded_reply_talking_about_a_challenge_is_a_person(body: str, subject: str) -> None:
    assert classify(threaded(body, subject=subject)) is Kind.HUMAN


def test_the_threaded_reply_rule_is_what_keeps_it_human(monkeypatch: pytest.MonkeyPatch) -> None:
    """Companion: without the rule, the same words read as a challenge."""
    monkeypatch.setattr(classifier_module, "_is_persons_reply", lambda msg, own: False)
    assert classify(threaded(OWN_WORDS[0])) is Kind.CHALLENGE


@pytest.mark.parametrize(
    "body",
    [
        "Could my friend be added to the guest list? PAY",
        "J'ai ajouté votre adresse à ma liste blanche et aux expéditeurs autorisés. STATUT",
        "L'authentification requise par ma banque a échoué, pouvez-vous renvoyer le lien ?",
        "Please confirm my booking, I am a real person and not a robot :)",
    ],
)
def test_ordinary_words_near_challenge_wording_stay_human(body: str) -> None:
    assert classify(message(body=body)) is Kind.HUMAN


QUOTED_BOUNCE = (
    "I got this yesterday, is my booking still fine? STATUS\n\n"
    "On Mon, 23 Nov 2026 at 10:02, Mail Delivery System <MAILER-DAEMON@mx.example.net> wrote:\n"
    "> Undelivered Mail Returned to Sender\n"
    "> Delivery to the following recipients failed permanently:\n"
    ">    * claire.morel@example.net\n"
    "> Error message below:\n"
    "> 550 - Requested action not taken: no such user here\n"
    "> Message details:\n"
    ">   RCPT TO: claire.morel@example.net\n"
)


def test_a_reply_quoting_a_bounce_is_a_person() -> None:
    # A Zimbra reply: its Message-ID is a JavaMail one, like James's.
    reply = threaded(QUOTED_BOUNCE, "Message-ID: <1795.11.1795856.JavaMail.zimbra@example.net>")
    assert classify(reply) is Kind.HUMAN
    assert failed_recipients(reply) == ()


def test_an_outlook_reply_with_a_bounce_below_it_unquoted_is_a_person() -> None:
    body = (
        "Why did this bounce? STATUS\n\n-----Original Message-----\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nSent: Monday\n"
        "Subject: Delivery status notification\n\n"
        "Delivery to the following recipients failed permanently:\n\n   * x@example.net\n"
    )
    reply = threaded(body, "Message-ID: <1.2.3.JavaMail.zimbra@example.net>")
    assert classify(reply) is Kind.HUMAN
    assert failed_recipients(reply) == ()


@pytest.mark.parametrize(
    "subject",
    ["Re: Undelivered Mail Returned to Sender", "RE: Delivery Status Notification (Failure)",
     "Re: Mail System Error - Returned Mail"],
)  # fmt: skip
def test_a_reply_about_a_bounce_is_a_person(subject: str) -> None:
    assert classify(threaded("Did you get my payment? STATUS", subject=subject)) is Kind.HUMAN


@pytest.mark.parametrize(
    "subject",
    ["Delivery Status Notification (Delay)", "Delivery status notification",
     "Mail System Error - Returned Mail", "[BOUNCE]", "Undeliverable Message"],
)  # fmt: skip
def test_more_bounce_subjects(subject: str) -> None:
    assert classify(message(subject=subject, body="")) is Kind.BOUNCE


@pytest.mark.parametrize("header", ["X-Precedence: auto_reply", "X-Precedence: bulk"])
def test_cpanel_auto_responder_header(header: str) -> None:
    assert classify(reply(header)) is Kind.AUTO_REPLY
