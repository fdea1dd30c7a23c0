"""Tell a person's reply from machine mail, which is recorded but never answered.

Answering an auto-reply, a bounce, a report or a challenge starts a mail loop, and answering
a mailing list spams its members (SPEC §11), so when in doubt we lean towards "machine": a
human whose mail is misread gets no answer and can write again, a loop keeps going.

Order matters, most specific first:

1. reports: every ``multipart/report`` whatever its report-type (a DSN, or one without a
   type, is a bounce; ARF abuse and DMARC failure reports, MDN read receipts, TLS reports…
   are reports), Amazon SES/SNS JSON notifications, DMARC aggregate reports (ordinary mail
   with a zip or gzip attachment);
2. bounces: a delivery-status part, a ``mailer-daemon`` / ``postmaster`` / ``post_master``
   sender, ``X-Failed-Recipients``, the formats that break RFC 3464 (X3, fml, Apache James,
   KDDI, Verizon), bounce subjects;
3. challenge-response requests ("confirm you are human to be added to my approved
   senders"): header signs first, then the wording, which is a weaker sign;
4. the explicit auto-reply headers, then list headers;
5. and only then the weakest signs: auto-reply subject wording, the null envelope sender.

Everything here must stay cheap (the inbound bench asks >= 50 messages/s) and linear: header
values are capped by the parser, bodies are only read for their first ``_SCAN_CHARS``, and no
pattern has nested or overlapping quantifiers that could backtrack.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from mail.parse import ParsedMessage
from mail.quotes import fold, strip_reply


class Kind(enum.Enum):
    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    REPORT = "report"  # about mail, not a delivery failure: DMARC, ARF, MDN, SNS notices
    CHALLENGE = "challenge"  # a challenge-response anti-spam asking us to prove we are human


# Bounce formats and challenges say what they are near the top; reading further only costs.
_SCAN_CHARS = 16_000
_JSON_CHARS = 256_000  # an SES notification with its headers is a few kB; json is linear

# Matched at the start of the fold()ed subject: auto-responders put their marker first
# ("Réponse automatique : Votre réservation"), while a person's reply starts with "Re:".
_AUTO_SUBJECT = re.compile(
    r"(out of (the )?office|automatic (reply|response)|auto[- ]?(reply|response)\b|auto ?:"
    r"|away from (the )?office|on vacation|vacation\b|on leave\b"
    r"|reponse automatique|reponse auto\b|absence du bureau|message d'absence"
    r"|absente?\b|en conges?\b|conges\b|vacances\b)"
)
_BOUNCE_SUBJECT = re.compile(
    r"(undelivered mail|undeliverable|delivery status notification\b"
    r"|mail delivery (failed|failure)|returned mail|failure notice|delivery failure"
    r"|mail system error|message not delivered|\[bounce\]"
    r"|non remis|non distribuable|echec de (la )?(remise|distribution)"
    r"|notification d'etat de (la )?(remise|distribution))"
)
# Local parts that only mail systems write from (RFC 5321 §4.5.1, RFC 2142), any case.
_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "post_master"})
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply"})
_FALSE_VALUES = frozenset({"no", "false", "0"})
_FIELD = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*(?:\n[ \t].*)*)", re.MULTILINE)

# RFC 7489 §7.2.1.1: "Report Domain: example.com Submitter: google.com Report-ID: <…>"; the
# same shape for TLS reports (RFC 8460).
_DMARC_SUBJECT = re.compile(r"report domain: ?\S+ submitter: ?\S")
_ARCHIVE_TYPES = frozenset(
    {"application/zip", "application/gzip", "application/x-gzip", "application/x-zip-compressed",
     "application/tlsrpt+gzip"}
)  # fmt: skip
_SNS_HEADERS = ("x-amz-sns-message-type", "x-amz-sns-message-id")
_JSON_START = re.compile(r"\s*\{")
_JAMES_ERROR = re.compile(r"^Error message below:[ \t]*$", re.MULTILINE)
_JAMES_DETAILS = re.compile(r"^Message details:[ \t]*$", re.MULTILINE)

# Challenge-response services whose own domain sends or signs the challenge.
_CHALLENGE_DOMAINS = (
    "boxbe.com", "spamarrest.com", "mailinblack.com", "choicemail.com", "digiportal.com",
    "sendio.com",
)  # fmt: skip
# Their wording, on fold()ed text with whitespace squeezed and ’ made '. Each branch is a
# literal phrase with optional words: no quantifier wraps another one.
_CHALLENGE_WORDS = re.compile(
    r"(confirm|prove|verify|show) (that )?(you are|you're) (a )?"
    r"(human|real person|not a (robot|spammer|machine|bot))"
    r"|added to (my|the|our) (list of )?"
    r"(approved|authori[sz]ed|allowed|accepted|trusted|verified) senders?"
    r"|approved senders? list|(join|added to) my guest list"
    r"|(accept|allow) (incoming )?(messages|e-?mails?|mail) only from"
    r"|only (accept|allow) (incoming )?(messages|e-?mails?|mail) from"
    r"|i apologi[sz]e for this automatic reply|(e-?mail|message) requires verification"
    r"|permission-based (spam|anti-?spam)|challenge[- ]response"
    r"|\b(boxbe|spamarrest|spam arrest|mailinblack|choicemail|boxtrapper)\b"
    r"|vous authentifier|authentifiez-vous|authentification (de l'expediteur|de votre adresse)"
    r"|(confirmer|prouver|verifier) que vous (etes|n'etes pas) (bien )?(un|une) "
    r"(humain|etre humain|personne|robot)|n'etes pas un robot"
    r"|n'accepte (que )?les (messages|e-?mails|courriels)"
    r"|votre (message|e-?mail|courriel) (est|a ete) (mis |place )?en attente"
)
# Words of each branch above, looked for with ``in`` first in the merely lowercased text (no
# key has an accent): the alternation costs about a quarter of a microsecond per character and
# fold() a Python call per character of non-ASCII text, the substring checks next to nothing.
_CHALLENGE_KEYS = (
    "you are", "you're", "you\u2019re", "sender", "guest list", "accept", "allow", "apologi",
    "verification", "permission-based", "challenge", "boxbe", "spamarrest", "spam arrest",
    "mailinblack", "choicemail", "boxtrapper", "authentif", "que vous", "robot", "en attente",
)  # fmt: skip
# "Re:", "RE :", "Réf. :", "AW:", "SV:"… at the start of a fold()ed subject.
_REPLY_PREFIX = re.compile(r"(re|aw|sv|vs|antw|ref|rif|odp)\.? ?:")
_LINK = re.compile(r"https?://|www\.")


def classify(msg: ParsedMessage, *, own_domains: Collection[str] = ()) -> Kind:
    """Classify ``msg``.

    ``own_domains``: the domains of the List-Unsubscribe links we put on our own
    notifications; a header pointing only there was not added by a mailing list.  Left
    empty, any List-Unsubscribe makes a list, which is the safe side.
    """
    report = _report(msg)
    if report is not None:
        return report
    if _is_bounce(msg):
        return Kind.BOUNCE
    if _is_challenge(msg):
        return Kind.CHALLENGE
    if _has_auto_reply_header(msg):
        return Kind.AUTO_REPLY
    if _is_list(msg, own_domains):
        return Kind.LIST
    if _AUTO_SUBJECT.match(fold(msg.subject)):
        return Kind.AUTO_REPLY
    if _null_sender(msg):
        # The null sender is reserved for notifications about mail (RFC 5321 §4.5.5).
        return Kind.BOUNCE
    return Kind.HUMAN


def failed_recipients(msg: ParsedMessage) -> tuple[str, ...]:
    """Addresses a bounce says could not be delivered, lowercased, to be recorded.  Empty for
    a delay notice or a bounce we cannot read.  Anyone can write these names, so the caller
    must not act on them alone (a bounce counts only on the envelope token of our mail)."""
    found = dict.fromkeys(_dsn_failures(msg.delivery_status or ""))
    for address in (msg.header("x-failed-recipients") or "").split(","):  # Exim, no DSN
        if "@" in address:
            found.setdefault(address.strip().strip("<>").lower())
    for address in _format_failures(msg):
        found.setdefault(address)
    return tuple(found)


# --- reports ----------------------------------------------------------------------------


def _report(msg: ParsedMessage) -> Kind | None:
    """Reports about mail: never from a person, whatever they report."""
    if msg.content_type == "multipart/report":
        # A DSN, or a report that does not say its type (the X3 MTA sends those), is a
        # bounce; every other type (feedback-report, disposition-notification, tlsrpt…)
        # reports on mail that was delivered.
        return Kind.BOUNCE if msg.report_type in ("delivery-status", "") else Kind.REPORT
    notification = _sns_notification(msg)
    if notification is not None:
        return Kind.BOUNCE if notification == "Bounce" else Kind.REPORT
    if _is_dmarc_aggregate(msg):
        return Kind.REPORT
    return None


def _sns_notification(msg: ParsedMessage) -> str | None:
    """The SES notificationType ("Bounce", "Complaint", "Delivery"), "Notification" for any
    other Amazon SNS message, None when the message is not from SNS."""
    payload = _ses_payload(msg.text)
    if payload is not None:
        return str(payload.get("notificationType"))
    signed = any(msg.header(h) is not None for h in _SNS_HEADERS)
    if signed or _under(_domain(msg.from_addr), "sns.amazonaws.com"):
        return "Notification"
    return None


def _ses_payload(text: str) -> dict[str, Any] | None:
    """The SES notification in a JSON body: bare (SNS "email" subscription, followed by a
    "--" footer) or as the ``Message`` string of an SNS envelope ("email-json")."""
    if not _JSON_START.match(text):
        return None
    head = text[:_JSON_CHARS]
    if "notificationType" not in head:
        return None
    document = _json_object(head.split("\n--\n", 1)[0])
    if document is None:
        return None
    inner = document.get("Message")
    if isinstance(inner, str):
        document = _json_object(inner) or document
    return document if "notificationType" in document else None


def _json_object(text: str) -> dict[str, Any] | None:
    # SNS email folds long lines with a "!" at the end and a space on the next line.
    for candidate in (text, text.replace("!\n ", "")):
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested on purpose
            continue
        return value if isinstance(value, dict) else None
    return None


def _is_dmarc_aggregate(msg: ParsedMessage) -> bool:
    if _DMARC_SUBJECT.match(_squeeze(fold(msg.subject))):
        return True
    # noreply-dmarc-support@google.com, dmarcreport@microsoft.com… with the report attached
    return "dmarc" in _local(msg.from_addr) and msg.content_type in _ARCHIVE_TYPES


# --- bounces ----------------------------------------------------------------------------


def _is_bounce(msg: ParsedMessage) -> bool:
    return (
        msg.delivery_status is not None
        or _from_daemon(msg)
        or msg.header("x-failed-recipients") is not None
        or _bounce_format(msg) is not None
        or bool(_BOUNCE_SUBJECT.match(fold(msg.subject)))
    )


def _from_daemon(msg: ParsedMessage) -> bool:
    """From, or the envelope sender (``Return-Path: <MAILER-DAEMON>``), is a mail system."""
    senders = (msg.from_addr, _bare_address(msg.header("return-path")))
    return any(_local(sender) in _DAEMONS for sender in senders)


def _null_sender(msg: ParsedMessage) -> bool:
    value = msg.header("return-path")
    return value is not None and value.replace(" ", "") in ("<>", "")


def _bounce_format(msg: ParsedMessage) -> str | None:
    """Which of the bounce formats that ignore RFC 3464 ``msg`` is, from its headers (the
    way sisimai's Lhost modules recognise them); the body is read only behind a header
    sign, so a person's reply that quotes such a bounce is not taken for one."""
    local, domain = _local(msg.from_addr), _domain(msg.from_addr)
    message_id = msg.message_id.lower()
    if local == "post_master" and _under(domain, "vtext.com"):
        return "james"  # Verizon's SMS gateway runs Apache James
    if local == "sysadmin" and _under(domain, "vzwpix.com"):
        return "vzwpix"
    if _is_kddi(msg, local, domain):
        return "kddi"
    subject = msg.subject.strip()
    x3_subject = fold(subject).startswith("delivery status notification")
    if msg.from_name.lower().startswith("mail delivery system") and x3_subject:
        return "x3"
    if msg.header("x-mlserver") is not None and local.endswith("-admin") and ".fml" in message_id:
        return "fml"
    if subject.upper() == "[BOUNCE]":
        return "james"
    if ".javamail." in message_id and _has_james_details(msg.text):
        return "james"
    return None


def _is_kddi(msg: ParsedMessage, local: str, domain: str) -> bool:
    """au by KDDI: its relay writes from no-reply@….dion.ne.jp with a fixed Reply-To, its
    EZweb / au.com mailboxes from Postmaster@."""
    if local == "no-reply" and _under(domain, "dion.ne.jp"):
        return True
    if _bare_address(msg.header("reply-to")) == "no-reply@app.auone-net.jp":
        return True
    return local == "postmaster" and (_under(domain, "ezweb.ne.jp") or _under(domain, "au.com"))


def _has_james_details(text: str) -> bool:
    head = text[:_SCAN_CHARS]
    return bool(_JAMES_ERROR.search(head)) and bool(_JAMES_DETAILS.search(head))


# --- challenge-response -----------------------------------------------------------------


def _is_challenge(msg: ParsedMessage) -> bool:
    return _challenge_header(msg) or _challenge_wording(msg)


def _challenge_header(msg: ParsedMessage) -> bool:
    """Signs a challenge-response system leaves in the headers."""
    if (msg.header("preference") or "").strip().lower() == "auto_reply":  # cPanel BoxTrapper
        return True
    subject = fold(msg.subject.strip())
    if "verify#" in subject or subject.startswith("please confirm your message"):
        return True  # BoxTrapper's subject carries its queue id; TMDA's confirm request
    if (msg.header("x-delivery-agent") or "").strip().lower().startswith("tmda"):
        return True
    domains = (
        _domain(msg.from_addr),
        _domain(_bare_address(msg.header("return-path"))),
        _domain(_bare_address(msg.header("reply-to"))),
        _domain(msg.message_id),
    )
    return any(_under(d, service) for d in domains if d for service in _CHALLENGE_DOMAINS)


def _challenge_wording(msg: ParsedMessage) -> bool:
    """The wording of a challenge is a weaker sign: it counts only in what the sender newly
    wrote (not in a quote), and not at all in what is clearly a person's reply."""
    head = msg.text[:_SCAN_CHARS]
    in_subject = _has_challenge_words(msg.subject)
    if not in_subject and not _has_challenge_words(head):
        return False  # the cheap path: nearly every message stops here
    own = strip_reply(head)
    if not in_subject and not _has_challenge_words(own):
        return False  # only quoted: a person quoting the challenge they received
    return not _is_persons_reply(msg, own)


def _has_challenge_words(text: str) -> bool:
    lowered = " ".join(text.lower().split())
    if not any(key in lowered for key in _CHALLENGE_KEYS):
        return False
    return bool(_CHALLENGE_WORDS.search(_squeeze(fold(text))))


def _is_persons_reply(msg: ParsedMessage, own_text: str) -> bool:
    """Threaded under an earlier message, "Re:" subject, no automatic marker, and no link to
    click in the new text: a challenge always carries one (or asks for a reply, and then
    says so with Auto-Submitted or the null sender)."""
    threaded = msg.in_reply_to is not None or bool(msg.references)
    return (
        threaded
        and bool(_REPLY_PREFIX.match(fold(msg.subject.strip())))
        and not _LINK.search(own_text)
        and not _null_sender(msg)
        and not _has_auto_reply_header(msg)
    )


# --- auto-replies and lists -------------------------------------------------------------


def _has_auto_reply_header(msg: ParsedMessage) -> bool:
    # RFC 3834: any Auto-Submitted value but "no" (auto-replied, auto-generated, …).
    submitted = (msg.header("auto-submitted") or "no").split(";")[0].strip().lower()
    suppress = re.split(r"[\s,]+", (msg.header("x-auto-response-suppress") or "").lower())
    precedence = (msg.header("precedence") or "").strip().lower()
    x_precedence = (msg.header("x-precedence") or "").strip().lower()  # cPanel's responder
    return (
        submitted not in ("", "no")
        or _is_set(msg.header("x-autoreply"))
        or _is_set(msg.header("x-autorespond"))
        # Exchange marks its own out-of-office replies so that nobody answers them.
        or bool({"oof", "all"} & set(suppress))
        or precedence in _AUTO_PRECEDENCE
        or x_precedence in _AUTO_PRECEDENCE
    )


def _is_set(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in _FALSE_VALUES


def _is_list(msg: ParsedMessage, own_domains: Collection[str]) -> bool:
    if msg.header("list-id") is not None or msg.header("x-mlserver") is not None:  # fml
        return True
    if (msg.header("precedence") or "").strip().lower() == "list":
        return True
    unsubscribe = msg.header("list-unsubscribe")
    return unsubscribe is not None and not _all_ours(unsubscribe, own_domains)


def _all_ours(list_unsubscribe: str, own_domains: Collection[str]) -> bool:
    """True when every <mailto:…> / <https://…> in the header points at one of our domains."""
    hosts = [_host(uri) for uri in re.findall(r"<([^<>]+)>", list_unsubscribe)]
    domains = {d.lower().strip(".") for d in own_domains}
    return bool(hosts) and all(
        any(host == d or host.endswith(f".{d}") for d in domains) for host in hosts
    )


def _host(uri: str) -> str:
    uri = uri.strip()
    if uri.lower().startswith("mailto:"):
        return uri[len("mailto:") :].split("?")[0].rpartition("@")[2].lower()
    try:
        return (urlsplit(uri).hostname or "").lower()
    except ValueError:  # e.g. an invalid IPv6 literal
        return ""


# --- failed recipients ------------------------------------------------------------------


def _dsn_failures(delivery_status: str) -> list[str]:
    """Recipients of the per-recipient blocks of an RFC 3464 report that failed for good.

    Original-Recipient is preferred: it is the address we sent to, before any forwarding
    the receiving side applied, so it matches the customer record.
    """
    addresses: list[str] = []
    for block in re.split(r"\n[ \t]*\n", delivery_status):
        fields = {name.lower(): value for name, value in _FIELD.findall(block)}
        recipient = fields.get("original-recipient") or fields.get("final-recipient")
        if recipient is None or not _is_failure(fields):
            continue
        address = recipient.rpartition(";")[2].strip().strip("<>").strip().lower()
        if "@" in address:
            addresses.append(" ".join(address.split()))
    return addresses


def _is_failure(fields: dict[str, str]) -> bool:
    action = fields.get("action", "").strip().lower()
    if action:
        return action == "failed"  # "delayed", "delivered", "relayed", "expanded" are not
    return fields.get("status", "").strip().startswith("5")


def _format_failures(msg: ParsedMessage) -> list[str]:
    """Recipients named by the non-RFC 3464 formats, read line by line with string methods
    (no pattern runs over the body)."""
    payload = _ses_payload(msg.text)
    if payload is not None:
        return _clean_addresses(_ses_failures(payload))
    reader = _READERS.get(_bounce_format(msg) or "")
    if reader is None:
        return []
    return _clean_addresses(reader(msg.text[:_SCAN_CHARS].splitlines()))


def _ses_failures(payload: dict[str, Any]) -> Iterator[str]:
    """bouncedRecipients of a Permanent bounce (Transient ones are retried by SES; a
    Complaint names the person who complained, who did receive the mail)."""
    bounce = payload.get("bounce")
    if payload.get("notificationType") != "Bounce" or not isinstance(bounce, dict):
        return
    if bounce.get("bounceType") != "Permanent":
        return
    for recipient in bounce.get("bouncedRecipients") or ():
        if isinstance(recipient, dict) and isinstance(recipient.get("emailAddress"), str):
            yield recipient["emailAddress"]


def _james_recipients(lines: list[str]) -> Iterator[str]:
    """Apache James (and Verizon's vtext.com): "  RCPT TO: someone@example.net" under
    "Message details:"."""
    for line in lines:
        text = line.strip()
        if text.upper().startswith("RCPT TO:"):
            yield text[len("RCPT TO:") :]


def _x3_recipients(lines: list[str]) -> Iterator[str]:
    """X3: "Delivery to the following recipients failed permanently:", then "   * someone@…"
    lines up to the next ===== rule."""
    inside = False
    for line in lines:
        text = line.strip()
        if "failed permanently:" in text:
            inside = True
        elif inside and text.startswith("="):
            return
        elif inside and text.startswith("* "):
            yield text[2:]


def _fml_recipients(lines: list[str]) -> Iterator[str]:
    """<address> on the lines before "Original mail as follows:" (the returned post)."""
    for line in lines:
        if line.strip() == "Original mail as follows:":
            return
        start, end = line.find("<"), line.rfind(">")
        if 0 <= start < end:
            yield line[start + 1 : end]


def _kddi_recipients(lines: list[str]) -> Iterator[str]:
    """KDDI: "Could not be delivered to: <someone@…>" (au one net), or a line holding only
    "<someone@…>" (EZweb, au.com)."""
    for line in lines:
        text = line.strip()
        if text.startswith("Could not be delivered to:"):
            text = text[len("Could not be delivered to:") :].strip()
        if text.startswith("<") and text.endswith(">"):
            yield text[1:-1]


def _vzwpix_recipients(lines: list[str]) -> Iterator[str]:
    """Verizon MMS: the "To:" line of the "Original Message:" block."""
    original = False
    for line in lines:
        if line.strip() == "Original Message:":
            original = True
        elif original and line.startswith("To:"):
            yield line[len("To:") :]


_READERS: dict[str, Callable[[list[str]], Iterator[str]]] = {
    "james": _james_recipients,
    "x3": _x3_recipients,
    "fml": _fml_recipients,
    "kddi": _kddi_recipients,
    "vzwpix": _vzwpix_recipients,
}


def _clean_addresses(raw: Iterable[str]) -> list[str]:
    return [address for address in map(_address, raw) if address]


def _address(raw: str) -> str:
    """A lowercased addr-spec out of "x@y", "<x@y>" or "Name <x@y>"; "" when it is none."""
    candidate = _bare_address(raw)
    local, at, domain = candidate.partition("@")
    valid = (
        bool(at and local and domain)
        and "@" not in domain
        and len(candidate) <= 254
        and not any(c.isspace() or c in '<>,;"()' for c in candidate)
    )
    return candidate if valid else ""


# --- small helpers ----------------------------------------------------------------------


def _bare_address(value: str | None) -> str:
    """The addr-spec of "Name <x@y>" ("<>" gives ""), lowercased: Return-Path, Reply-To."""
    if not value:
        return ""
    if "<" in value:
        value = value.rpartition("<")[2].partition(">")[0]
    return value.strip().lower()


def _local(address: str) -> str:
    """The local part, or the whole when there is no domain ("MAILER-DAEMON")."""
    return (address.rpartition("@")[0] if "@" in address else address).strip().lower()


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() if "@" in address else ""


def _under(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith(f".{parent}")


def _squeeze(text: str) -> str:
    """One space between words, typographic apostrophes made plain, for phrase matching."""
    return " ".join(text.replace("\u2019", "'").split())
