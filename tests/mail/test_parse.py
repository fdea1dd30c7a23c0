"""parse_message on messages as real clients write them, and on hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.parse import ParsedMessage, decode_bytes, parse_message
from mail.quotes import html_to_text
from mail.tokens import TokenClaims, read_reply_token

SAMPLES = Path(__file__).parent / "samples"
SECRET = b"test-secret-not-for-production"  # the samples' tokens were made with it
MAX = 1_000_000


def sample(name: str) -> ParsedMessage:
    return parse_message((SAMPLES / name).read_bytes(), max_bytes=MAX)


def message(*headers: str, body: str | bytes = "") -> bytes:
    encoded = body.encode("utf-8") if isinstance(body, str) else body
    return "\n".join([*headers, "", ""]).encode("utf-8") + encoded


@pytest.mark.parametrize(
    ("name", "from_addr", "from_name", "claims"),
    [
        ("gmail_top_post.eml", "paul.martin@gmail.com", "Paul Martin", ("K7M-4QX", 1042)),
        ("outlook_html_only_cp1252.eml", "celine.dupre@cabinet-dupre.fr", "Céline Dupré",
         ("P3R-8ZD", 77)),
        ("apple_mail_bottom_post.eml", "sophie.bernard@icloud.com", "Sophie Bernard",
         ("B2C-9LM", 5)),
        ("thunderbird_fr_latin1.eml", "marie.lefevre@orange.fr", "Marie Lefèvre",
         ("H4T-2WN", 311)),
        ("phone_base64_utf8.eml", "julien.roux@free.fr", "Julien Roux", ("Z9Q-6RV", 58)),
    ],
)  # fmt: skip
def test_client_replies_carry_sender_and_a_valid_reply_token(
    name: str, from_addr: str, from_name: str, claims: tuple[str, int]
) -> None:
    parsed = sample(name)
    assert (parsed.from_addr, parsed.from_name) == (from_addr, from_name)
    assert [read_reply_token(SECRET, t) for t in parsed.reply_token_candidates] == [
        TokenClaims(*claims)
    ]
    assert parsed.in_reply_to == f"20261123090200.{claims[0]}.held@venue.example"
    assert parsed.references == (parsed.in_reply_to,)
    assert not parsed.is_oversized


def test_gmail_reply_prefers_the_plain_part_and_keeps_ids_without_brackets() -> None:
    parsed = sample("gmail_top_post.eml")
    assert parsed.message_id == "CAF3x8kNq2Vb7m+dQ1yZp0=Lw4e8ZrYx9_Tq@mail.gmail.com"
    assert parsed.subject == "Re: Your booking K7M-4QX is held until 4 December"
    assert parsed.to_addrs == ("desk+agjaqszxjuwtiukynj5jncautcpheer6@venue.example",)
    # The plain part wraps the attribution; the HTML part would have it on one line.
    assert "@venue.example>\nwrote:" in parsed.text
    assert parsed.text.startswith("Cancel - my sister's wedding was moved to that weekend\n")


def test_outlook_html_only_reply_is_decoded_as_windows_1252_text() -> None:
    parsed = sample("outlook_html_only_cp1252.eml")
    assert parsed.subject == "RE: Votre réservation P3R-8ZD est en attente jusqu’au 4 décembre"
    lines = parsed.text.splitlines()
    assert lines[:3] == [
        "Annuler : nous n’avons plus de budget pour la sortie du comité d’entreprise.",
        "",  # Outlook's <p>&nbsp;</p> blank line
        "Bien cordialement,",
    ]
    assert "De : Guichet <desk+afgvam2sfu4furgdjo2t6b3gd7hf77q@venue.example>" in lines
    assert "Envoyé : lundi 23 novembre 2026 10:02" in lines
    assert "MsoNormal" not in parsed.text and "@font-face" not in parsed.text


def test_thunderbird_latin1_flowed_quote_is_decoded_and_rejoined() -> None:
    text = sample("thunderbird_fr_latin1.eml").text
    assert text.startswith("ANNULER maladie\n\nBien à vous,\nMarie Lefèvre\n")
    assert "Le 23/11/2026 à 10:02, Guichet a écrit\xa0:" in text
    assert "> Votre réservation H4T-2WN (3 places, Les Fourberies de Scapin, samedi 19" in text


def test_base64_utf8_phone_reply_is_decoded() -> None:
    parsed = sample("phone_base64_utf8.eml")
    assert parsed.subject == "Re: Votre réservation Z9Q-6RV est en attente"
    assert parsed.text.startswith("Prolonger 24 décembre, je suis en déplacement\n")


def test_forwarded_booking_has_no_token_because_it_was_sent_to_the_plain_address() -> None:
    parsed = sample("forwarded_booking.eml")
    assert parsed.reply_token_candidates == ()  # the token in the quoted body does not count
    assert parsed.text.startswith("STATUS\n\n---------- Forwarded message ---------\n")
    assert "iVBORw0KGgo" not in parsed.text  # the attached QR image is not body text


def test_bounce_exposes_its_delivery_status_part() -> None:
    parsed = sample("dsn_bounce.eml")
    assert (parsed.content_type, parsed.report_type) == ("multipart/report", "delivery-status")
    assert parsed.delivery_status is not None
    assert "Final-Recipient: rfc822; old.address@example.net" in parsed.delivery_status
    assert parsed.header("Return-Path") == "<>"


def test_classification_headers_are_kept_decoded() -> None:
    parsed = sample("mailing_list.eml")
    assert parsed.header("list-id") == "Réseau des salles <reseau.lists.salles-de-spectacle.org>"
    assert parsed.header("precedence") == "list"
    assert parsed.header("x-autoreply") is None


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.eml")))
def test_crlf_and_lf_line_endings_parse_alike(name: str) -> None:
    raw = (SAMPLES / name).read_bytes()
    crlf = parse_message(raw.replace(b"\n", b"\r\n"), max_bytes=MAX)
    lf = parse_message(raw, max_bytes=MAX)
    assert crlf == lf


def test_message_without_message_id_gets_a_stable_synthetic_one() -> None:
    raw = message("From: a@example.org", "Subject: PAY", body="PAY\n")
    first = parse_message(raw, max_bytes=MAX).message_id
    assert first == parse_message(raw, max_bytes=MAX).message_id
    assert first.startswith("sha256.") and first.endswith("@guichet.invalid")
    other = parse_message(raw.replace(b"PAY\n", b"PAYER\n"), max_bytes=MAX).message_id
    assert other != first


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Message-ID: <abc@example.org>", "abc@example.org"),
        ("Message-Id:   <abc@example.org> (comment)", "abc@example.org"),
        ("Message-ID: abc@example.org", "abc@example.org"),  # brackets forgotten
        ("Message-ID: not an id", None),
        ("Message-ID: <" + "x" * 300 + "@example.org>", None),  # would not fit the column
    ],
)
def test_message_ids_are_normalised_or_replaced(header: str, expected: str | None) -> None:
    message_id = parse_message(message(header), max_bytes=MAX).message_id
    if expected is None:
        assert message_id.endswith("@guichet.invalid")
    else:
        assert message_id == expected


def test_oversized_message_is_flagged_with_headers_read_and_body_skipped() -> None:
    attachment = "A" * 76 + "\n"
    raw = message(
        "From: Big Sender <Big@Example.org>",
        "To: desk+abc@venue.example",
        "Message-ID: <huge-1@example.org>",
        "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\n\nPAY\n--b\nContent-Type: image/png\n"
        "Content-Transfer-Encoding: base64\n\n" + attachment * 20_000 + "--b--\n",
    )
    parsed = parse_message(raw, max_bytes=1_000_000)
    assert parsed.is_oversized
    assert (parsed.message_id, parsed.from_addr) == ("huge-1@example.org", "big@example.org")
    assert parsed.reply_token_candidates == ("abc",)
    assert parsed.text == ""


def test_message_of_exactly_the_limit_is_not_oversized() -> None:
    raw = message("From: a@example.org", body="PAY\n")
    assert not parse_message(raw, max_bytes=len(raw)).is_oversized
    assert parse_message(raw, max_bytes=len(raw) - 1).is_oversized


def test_plus_parts_of_to_cc_delivered_to_and_x_original_to_are_candidates_once() -> None:
    raw = message(
        "From: a@example.org",
        'To: "Desk" <desk+one@venue.example>, other@example.org',
        "Cc: desk+two@venue.example",
        "Delivered-To: desk+one@venue.example",
        "X-Original-To: DESK+Three@venue.example",
        "Reply-To: desk+not-a-recipient@venue.example",
    )
    parsed = parse_message(raw, max_bytes=MAX)
    assert parsed.reply_token_candidates == ("one", "two", "three")
    assert parsed.to_addrs == ("desk+one@venue.example", "other@example.org")


def test_raw_8bit_utf8_headers_are_decoded() -> None:
    raw = message("From: Zoé Étienne <zoe@example.fr>", "Subject: Prolonger jusqu’au 24")
    parsed = parse_message(raw, max_bytes=MAX)
    assert (parsed.from_name, parsed.subject) == ("Zoé Étienne", "Prolonger jusqu’au 24")


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("x-unknown-charset", "é".encode(), "é"),  # unknown label: UTF-8
        ("utf-8", "é".encode("latin-1"), "é"),  # mislabelled: not UTF-8, so windows-1252
        ("iso-8859-1", b"l\x92\xe9t\xe9", "l’été"),  # Outlook's Latin-1 is windows-1252
        ("us-ascii", "à".encode(), "à"),  # 8-bit text under an ASCII label
        ("windows-1252", b"\x80 5", "€ 5"),
        ("rot13", b"PAY", "PAY"),  # a codec that is not a text encoding
        ("utf-8", b"\x81\x8d\xff", "\x81\x8d\xff"),  # nothing fits: Latin-1 keeps every byte
    ],
)
def test_body_charsets_fall_back_without_losing_text(
    charset: str, body: bytes, expected: str
) -> None:
    assert decode_bytes(body, charset) == expected
    raw = message(f'Content-Type: text/plain; charset="{charset}"', body=body)
    assert parse_message(raw, max_bytes=MAX).text == expected


def test_quoted_printable_body_is_decoded() -> None:
    raw = message(
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        body="PROLONGER 24 d=E9cembre, une raison qui d=E9passe la ligne =\net continue\n",
    )
    assert parse_message(raw, max_bytes=MAX).text == (
        "PROLONGER 24 décembre, une raison qui dépasse la ligne et continue\n"
    )


def test_html_drops_scripts_and_styles_and_breaks_lines_at_blocks() -> None:
    html = (
        "<html><head><title>t</title><style>p {color: red}</style></head><body>"
        "<script>alert('x')</script><div>PAY</div><p>first<br>second</p>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<p>caf&eacute; &amp; th&eacute;&nbsp;!</p></body></html>"
    )
    assert html_to_text(html) == "PAY\nfirst\nsecond\none\ntwo\na b\ncafé & thé !"


def test_html_blockquotes_become_quote_marks() -> None:
    html = "<div>CANCEL</div><blockquote>Hello<br><blockquote>older</blockquote></blockquote>"
    assert html_to_text(html) == "CANCEL\n> Hello\n> > older"


def test_html_pre_keeps_its_line_breaks() -> None:
    assert html_to_text("<pre>ANNULER\nmaladie\n\n&gt; old</pre>") == "ANNULER\nmaladie\n\n> old"


def test_html_only_message_is_converted() -> None:
    raw = message("Content-Type: text/html; charset=utf-8", body="<p>STATUT</p><p>Merci</p>")
    assert parse_message(raw, max_bytes=MAX).text == "STATUT\nMerci"


def test_flowed_text_with_delsp_joins_without_the_extra_space() -> None:
    raw = message(
        "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes",
        body="CANCEL my train was can \ncelled\n-- \nBob\n",
    )
    assert parse_message(raw, max_bytes=MAX).text == "CANCEL my train was cancelled\n-- \nBob\n"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n\n\n",
        b"not a header at all",
        b"From: <<<@@@>>>\nTo: ,,,\nMessage-ID: <unterminated\nSubject: =?utf-8?b?****?=\n\nx",
        b"Content-Type: multipart/mixed; boundary=\n\n--\n--",
        b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!",
        b"Content-Type: text/html\n\n<p<<<<</div></blockquote></blockquote><!-- never ends",
    ],
)
def test_malformed_messages_parse_without_raising(raw: bytes) -> None:
    parsed = parse_message(raw, max_bytes=MAX)
    assert parsed.message_id.endswith("@guichet.invalid")


HEADER_NAMES = ["From", "To", "Cc", "Subject", "Message-ID", "References", "Content-Type",
                "Content-Transfer-Encoding", "Delivered-To", "Auto-Submitted"]  # fmt: skip
ODD_VALUES = ['multipart/report; report-type=delivery-status; boundary="b"', "=?x-bad?q?=FF?=",
              "text/html; charset=x-junk", "base64", '"\\', "a@b, <>, @, \"x\" <",
              "undisclosed-recipients:;", "=?utf-8?q?=E9?= <x+tok@y>"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(HEADER_NAMES), st.text(max_size=60) | st.sampled_from(ODD_VALUES)
        ),
        max_size=8,
    ),
    st.binary(max_size=300),
)
def test_random_headers_and_bodies_never_raise(headers: list[tuple[str, str]], body: bytes) -> None:
    raw = "".join(f"{name}: {value}\n" for name, value in headers).encode("utf-8", "replace")
    parsed = parse_message(raw + b"\n" + body, max_bytes=MAX)
    assert parsed.message_id


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=500), st.integers(min_value=0, max_value=600))
def test_arbitrary_bytes_never_raise(raw: bytes, max_bytes: int) -> None:
    parsed = parse_message(raw, max_bytes=max_bytes)
    assert parsed.is_oversized == (len(raw) > max_bytes)
