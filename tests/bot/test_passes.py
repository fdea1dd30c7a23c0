"""/passes end to end (issue 12): the real dispatcher over HTTP against the fake Bot API, on a
real database (SQLite and PostgreSQL). The list with credit and status, buying a fixed-seat
pass with the best seat and with a chosen one, the holder fields step by step (a bad value,
then a good one; an optional one skipped), the photo uploaded through the Bot API's file
download (a real JPEG; a non-image and a too-large one refused), the card's QR decoded, a held
pass paid through Telegram Payments, a date added to a pass with choice (its own, and by its
code), and the guards: another customer's pass and a double click."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.rules import pass_products as rules
from booking.services import pass_products, tickets
from booking.tables.catalog import Seat
from booking.tables.passes import Pass, PassPhoto
from bot import pass_cards
from bot.pass_callbacks import PassCb
from bot.routers import passes as passes_router
from tests.booking.test_pass_photos import png_bomb
from tests.booking.test_pass_products import product, season_with_events
from tests.bot.conftest import SENDS, Call, Desk, Person, Reply, linked_customer
from tests.builders import STAFF
from tests.support.english import english_in

ANA, BEN = 3101, 3102
FIELDS = {"first_name": "required", "birth_date": "optional", "photo": "optional"}


async def make_product(
    ctx: Context, *, ga: bool = False, **changes: Any
) -> tuple[dict[str, int], int]:
    """The season of test_pass_products (opera 2 dates, jazz 3; Stalls rows A and B of 5
    seats, a Floor) and a pass of both events, at a fixed seat (or on the Floor: ``ga``)."""
    ids = await season_with_events(ctx)
    if ga:
        changes |= {"seating": "ga", "area_id": ids["Floor"]}
    changes.setdefault("holder_fields", rules.holder_fields(FIELDS))
    settings = product(ids, **changes)
    return ids, await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def read(ctx: Context, query: Any) -> list[Any]:
    async def work(session: AsyncSession) -> list[Any]:
        return list((await session.execute(query)).scalars())

    return await ctx.db.read(work)


def jpeg(width: int = 900, height: int = 1200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(out, format="JPEG", quality=90)
    return out.getvalue()


async def send_file(
    person: Person, data: bytes, *, as_photo: bool = True, size: int | None = None
) -> Reply:
    """The person sends ``data`` as a photo (or as a document): the fake Bot API keeps the
    bytes under a file id, served by getFile and /file/ like Telegram's."""
    fake = person.desk.fake
    file_id = f"user-upload-{len(fake.uploads) + 1}"
    fake.uploads[file_id] = data
    meta = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": size or len(data)}
    if as_photo:
        content: dict[str, Any] = {"photo": [{**meta, "width": 90, "height": 120}, meta | {
            "width": 900, "height": 1200}]}  # fmt: skip
    else:
        content = {"document": {**meta, "file_name": "photo.bin", "mime_type": "image/jpeg"}}
    message = fake._user_message(person.user_id, **content)
    update = fake._update({"message": message}, False)
    return await person.desk.handle(person, update)


def qr_of(call: Call) -> str:
    (png,) = call.files.values()
    with Image.open(io.BytesIO(png)) as image:
        (found,) = zxingcpp.read_barcodes(image)
    return found.text


async def buy_best_available(ana: Person) -> Reply:
    await ana.send("/passes")
    await ana.press("Buy a pass")
    await ana.press("Abonnement")
    await ana.press("Best available")
    await ana.send("Camille")
    await ana.press("Skip")  # the birth date
    await ana.press("Skip")  # the photo
    return await ana.press("Hold, pay later")


async def test_buy_with_the_best_seat_then_card_then_pay(any_desk: Desk) -> None:
    """Polling on SQLite and PostgreSQL, and webhook mode."""
    desk = any_desk
    ids, _ = await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)

    reply = await ana.send("/passes")
    assert "You have no season pass yet." in reply.text
    reply = await ana.press("Buy a pass")
    assert "Abonnement · 2026/27 · Stalls · 5 dates · CHF\u00a0240.00" in reply.text
    reply = await ana.press("Abonnement")
    assert "Step 1 of 4\n\nAbonnement · 2026/27" in reply.text
    assert "10 seats are free at every date of this pass." in reply.text
    assert ana.buttons() == ["Best available", "Choose my seat", "« Back", "Cancel"]
    reply = await ana.press("Best available")
    assert "Step 2 of 4\nThe holder's first name?" in reply.text
    assert "Skip" not in ana.buttons()  # required
    reply = await ana.send("Camille")
    assert "Step 3 of 4\nThe holder's birth date, as YYYY-MM-DD" in reply.text
    reply = await ana.send("27/04/1990")  # a bad value: refused at its step, asked again
    assert reply.text.startswith("Give the birth date as YYYY-MM-DD, for example 1990-04-27.")
    assert "Step 3 of 4" in reply.text
    reply = await ana.send("1990-04-27")
    assert "Step 4 of 4\nA photo of the holder for the card" in reply.text
    reply = await ana.press("Skip")
    assert "Abonnement · 2026/27\nPrice: CHF\u00a0240.00" in reply.text
    assert "Seat: the best seat free at every date, given when the pass is held" in reply.text
    assert "5 dates included:" in reply.text and "  · Opera · " in reply.text
    assert "First name: Camille\nBirth date: 1990-04-27" in reply.text
    reply = await ana.press("Hold, pay later")
    assert "is held for you until" in reply.text

    (sold,) = await read(desk.ctx, select(Pass))
    (seat,) = await read(desk.ctx, select(Seat).where(Seat.id == sold.seat_id))
    assert (seat.row, seat.number, sold.photo_id) == ("A", 1, None)  # the best one
    assert sold.holder == '{"birth_date": "1990-04-27", "first_name": "Camille"}'
    reply = await ana.send("/passes")
    assert f"Pass code: {sold.code}" in reply.text
    assert "Held, not paid yet: pay by " in reply.text
    assert "Seat: Stalls · row A · seat 1" in reply.text and "Credit: CHF\u00a00.00" in reply.text
    assert "Holder: Camille" in reply.text

    reply = await ana.press(f"Show card {sold.code}")
    (card,) = reply.of("sendPhoto")
    assert qr_of(card) == tickets.ticket_url(desk.ctx.settings.public_url, sold.secret)
    caption = str(card.params["caption"])
    assert "Abonnement · 2026/27" in caption and f"Pass code: {sold.code}" in caption
    assert "Holder: Camille" in caption and "Credit: CHF\u00a00.00" in caption
    reply = await ana.send("/mybookings")  # the pass's booking is named for the pass
    assert " · Abonnement · " in reply.text and " · Opera · " not in reply.text

    await ana.send("/passes")
    reply = await ana.press(f"Pay {sold.code}")
    (invoice,) = reply.of("sendInvoice")
    assert invoice.params["title"] == "Abonnement"  # the pass, not its first date's event
    payload = str(invoice.params["payload"])
    paid = desk.fake.successful_payment(ANA, payload, 24000, "CHF", enqueue=False)
    await desk.handle(ana, desk.fake.pre_checkout(ANA, payload, 24000, "CHF", enqueue=False))
    await desk.handle(ana, paid)
    reply = await ana.send("/passes")
    assert "Status: paid" in reply.text and f"Pay {sold.code}" not in ana.buttons()
    del ids


async def test_credit_balance_is_shown(desk: Desk) -> None:
    await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await buy_best_available(ana)
    (sold,) = await read(desk.ctx, select(Pass))

    async def credit(session: AsyncSession) -> None:
        row = await session.get(Pass, sold.id)
        assert row is not None
        row.credit_minor = 1250  # what a resale paid out as credit (the resale issue fills it)

    await desk.ctx.db.write(credit)

    reply = await ana.send("/passes")
    assert "Credit: CHF\u00a012.50" in reply.text
    reply = await ana.press("Show card")
    assert "Credit: CHF\u00a012.50" in str(reply.of("sendPhoto")[0].params["caption"])


async def test_a_chosen_seat_and_an_uploaded_photo_then_pay_now(desk: Desk) -> None:
    await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/passes")
    await ana.press("Buy a pass")
    await ana.press("Abonnement")

    reply = await ana.press("Choose my seat")
    assert "Stalls: choose a row." in reply.text  # one section: its rows at once
    reply = await ana.press("Row B")
    assert "Stalls, row B: tap your seat" in reply.text
    assert ana.buttons() == ["1", "2", "3", "4", "5", "« Back", "Cancel"]
    reply = await ana.press("3")
    assert "The holder's first name?" in reply.text
    await ana.send("Camille")
    reply = await ana.press("Skip")
    assert "A photo of the holder" in reply.text

    reply = await send_file(ana, b"%PDF-1.4 a document, not a photo", as_photo=False)
    assert reply.text.startswith("This file is not a photo we can read")
    assert "Step 4 of 4" in reply.text  # the same step again
    reply = await send_file(ana, jpeg(), size=6 * 1024 * 1024)
    assert reply.text.startswith("This photo is too large: send one of at most 5 MB")
    assert not reply.of("getFile")  # refused on its announced size, never downloaded
    reply = await ana.send("a text instead")
    assert reply.text.startswith("Please send a photo (or an image file).")
    reply = await send_file(ana, jpeg())
    assert reply.of("getFile")
    assert "Seat: Stalls · row B · seat 3" in reply.text and "Photo: received" in reply.text

    reply = await ana.press("Pay now CHF\u00a0240.00")
    assert "is kept for you while you pay." in reply.text
    (invoice,) = reply.of("sendInvoice")
    assert sum(p["amount"] for p in invoice.params["prices"]) == 24000
    (sold,) = await read(desk.ctx, select(Pass))
    (seat,) = await read(desk.ctx, select(Seat).where(Seat.id == sold.seat_id))
    assert (seat.row, seat.number) == ("B", 3)
    (photo,) = await read(desk.ctx, select(PassPhoto))
    assert (sold.photo_id, photo.customer_id, photo.width, photo.height) == (
        photo.id, sold.customer_id, 450, 600
    )  # fmt: skip


async def test_back_goes_one_step_back_and_cancel_leaves(desk: Desk) -> None:
    await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/passes")
    await ana.press("Buy a pass")
    await ana.press("Abonnement")
    await ana.press("Best available")
    await ana.send("Camille")
    reply = await ana.press("« Back")
    assert "Step 2 of 4\nThe holder's first name?" in reply.text
    reply = await ana.press("« Back")
    assert "Best available" in ana.buttons()
    reply = await ana.press("« Back")
    assert "Season passes on sale:" in reply.text
    await ana.press("Abonnement")
    reply = await ana.press("Cancel")
    assert "Nothing was changed." in reply.text
    assert await read(desk.ctx, select(Pass)) == []


async def test_a_seat_taken_meanwhile_brings_back_the_seat_step(desk: Desk) -> None:
    await make_product(desk.ctx, holder_fields=rules.holder_fields({"first_name": "optional"}))
    await linked_customer(desk.ctx, ANA)
    await linked_customer(desk.ctx, BEN, email="ben@example.org", name="Ben")
    ana, ben = desk.person(ANA), desk.person(BEN)
    for person in (ana, ben):
        await person.send("/passes")
        await person.press("Buy a pass")
        await person.press("Abonnement")
        await person.press("Choose my seat")
        await person.press("Row A")
        await person.press("1")
        await person.press("Skip")
    await ana.press("Hold, pay later")

    reply = await ben.press("Hold, pay later")

    assert reply.text.startswith("Seat A1 is taken at one of the pass's dates")
    assert "Best available" in ben.buttons()  # back at the seat step, the purchase kept
    assert len(await read(desk.ctx, select(Pass))) == 1


async def test_a_double_click_on_hold_sells_one_pass(desk: Desk) -> None:
    await make_product(desk.ctx, holder_fields=rules.holder_fields({}))
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/passes")
    await ana.press("Buy a pass")
    await ana.press("Abonnement")
    await ana.press("Best available")
    assert ana.screen is not None
    (data,) = [d for text, d in ana.screen.buttons() if text.startswith("Hold")]
    message_id = ana.message_id(ana.screen)
    press = [desk.fake.press_button(ANA, message_id, data, enqueue=False) for _ in range(2)]

    reply = await desk.handle_many(ana, press)

    assert len(await read(desk.ctx, select(Pass))) == 1
    assert "already being handled" in " ".join(reply.alerts)


async def test_companion_without_the_claim_a_double_click_sells_two_passes(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step's compare-and-set is what makes a double click sell once."""

    async def always(*args: object) -> bool:
        return True

    monkeypatch.setattr(passes_router, "claim", always)
    await make_product(desk.ctx, holder_fields=rules.holder_fields({}))
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/passes")
    await ana.press("Buy a pass")
    await ana.press("Abonnement")
    await ana.press("Best available")
    assert ana.screen is not None
    (data,) = [d for text, d in ana.screen.buttons() if text.startswith("Hold")]
    message_id = ana.message_id(ana.screen)
    for _ in range(2):  # one after the other: each finds the summary still saved
        await desk.handle(ana, desk.fake.press_button(ANA, message_id, data, enqueue=False))

    assert len(await read(desk.ctx, select(Pass))) == 2


async def test_another_customers_pass_card_is_refused(desk: Desk) -> None:
    await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    await linked_customer(desk.ctx, BEN, email="ben@example.org", name="Ben")
    ana, ben = desk.person(ANA), desk.person(BEN)
    await buy_best_available(ana)
    (sold,) = await read(desk.ctx, select(Pass))
    await ben.send("/passes")
    forged = PassCb(action="card", id=sold.id).pack()

    reply = await ben.press_data(forged)

    assert not reply.of("sendPhoto") and sold.code not in reply.text
    assert "This has changed in the meantime." in reply.alerts


async def test_companion_without_the_owner_check_a_forged_button_shows_the_card(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    await linked_customer(desk.ctx, BEN, email="ben@example.org", name="Ben")
    ana, ben = desk.person(ANA), desk.person(BEN)
    await buy_best_available(ana)
    (sold,) = await read(desk.ctx, select(Pass))
    await ben.send("/passes")
    from booking.queries import passes as pass_queries

    async def anyone(ctx: Context, customer: object, pass_id: int) -> object:
        return await pass_queries.pass_detail(ctx, pass_id=pass_id)

    monkeypatch.setattr(pass_cards, "own_pass", anyone)

    reply = await ben.press_data(PassCb(action="card", id=sold.id).pack())

    (card,) = reply.of("sendPhoto")  # Ana's QR, in Ben's chat
    assert qr_of(card) == tickets.ticket_url(desk.ctx.settings.public_url, sold.secret)


async def test_the_whole_flow_in_french(desk: Desk) -> None:
    await make_product(desk.ctx)
    await linked_customer(desk.ctx, ANA, language="fr")
    zoe = desk.person(ANA, language="fr")
    seen: list[Reply] = []

    async def step(reply: Any) -> Reply:
        seen.append(await reply)
        return seen[-1]

    reply = await step(zoe.send("/passes"))
    assert "Vous n'avez pas encore d'abonnement." in reply.text
    reply = await step(zoe.press("Acheter un abonnement"))
    assert "Abonnement · 2026/27 · Stalls · 5 dates · 240,00\u00a0CHF" in reply.text
    reply = await step(zoe.press("Abonnement"))
    assert "Étape 1 sur 4" in reply.text
    assert "10 fauteuils sont libres à chaque date de cet abonnement." in reply.text
    reply = await step(zoe.press("Choisir mon fauteuil"))
    reply = await step(zoe.press("Rang B"))
    reply = await step(zoe.press("2"))
    assert "Étape 2 sur 4\nLe prénom du titulaire ?" in reply.text
    reply = await step(zoe.send("Camille"))
    reply = await step(zoe.send("27.04.1990"))
    assert reply.text.startswith("Donnez la date de naissance sous la forme AAAA-MM-JJ")
    reply = await step(zoe.send("1990-04-27"))
    assert "Une photo du titulaire pour la carte" in reply.text
    reply = await step(send_file(zoe, b"GIF89a but not really", as_photo=False))
    assert reply.text.startswith("Ce fichier n'est pas une photo que nous savons lire")
    reply = await step(send_file(zoe, jpeg(), size=8 * 1024 * 1024))
    assert reply.text.startswith("Cette photo est trop grande")
    reply = await step(send_file(zoe, jpeg()))
    assert "Fauteuil : Stalls · rang B · place 2" in reply.text
    assert "Prénom : Camille" in reply.text and "Photo : reçue" in reply.text
    reply = await step(zoe.press("Réserver, payer plus tard"))
    assert "vous est réservé jusqu'au" in reply.text
    (sold,) = await read(desk.ctx, select(Pass))
    reply = await step(zoe.send("/passes"))
    assert "Réservé, pas encore payé : à payer d'ici au" in reply.text
    assert (
        "Crédit : 0,00\u00a0CHF" in reply.text
        and f"Code de l'abonnement : {sold.code}" in reply.text
    )
    reply = await step(zoe.press(f"Afficher la carte {sold.code}"))
    (card,) = reply.of("sendPhoto")
    assert "Montrez ce code à l'entrée" in str(card.params["caption"])
    await step(zoe.send("/passes"))
    reply = await step(zoe.press(f"Payer {sold.code}"))
    assert reply.of("sendInvoice")

    data = ["Abonnement", "2026/27", "Stalls", "Opera", "Jazz", "Camille", sold.code]
    captions = [str(c.params.get("caption", "")) for r in seen for c in r.of("sendPhoto")]
    buttons = [text for r in seen for c in r.calls if c.method in SENDS for text, _ in c.buttons()]
    words = "\n".join([*(r.text for r in seen), *captions, *buttons])
    assert english_in(words, data) == []


async def choice_pass(desk: Desk) -> tuple[Person, Pass]:
    """Ana buys "Carte 3" (3 dates of her choice among opera's and jazz's 5) in the bot,
    picking one date now."""
    await make_product(
        desk.ctx, ga=True, name="Carte 3", includes="choice", choice_count=3,
        holder_fields=rules.holder_fields({}),
    )  # fmt: skip
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/passes")
    await ana.press("Buy a pass")
    reply = await ana.press("Carte 3")
    assert "Step 1 of 1" in reply.text and "Pick up to 3 dates (at least one)" in reply.text
    reply = await ana.press("Done") if "Done" in ana.buttons() else reply
    assert "Done" not in ana.buttons()  # nothing picked yet: no way on but a pick
    reply = await ana.press("Jazz")
    assert "1 picked." in reply.text and sum(b.startswith("✓ Jazz") for b in ana.buttons()) == 1
    reply = await ana.press("✓ Jazz")
    assert "0 picked." in reply.text
    await ana.press("Opera")
    reply = await ana.press("Done")
    assert "Your dates:\n  · Opera · " in reply.text and "Jazz" not in reply.text
    await ana.press("Hold, pay later")
    (sold,) = await read(desk.ctx, select(Pass))
    assert sold.choices_left == 2
    return ana, sold


async def test_add_dates_to_a_pass_with_choice_from_the_list_and_by_its_code(desk: Desk) -> None:
    ana, sold = await choice_pass(desk)

    reply = await ana.send("/passes")
    assert "2 dates left to pick" in reply.text
    reply = await ana.press(f"Add a date to {sold.code}")
    assert "Choose the date to add:" in reply.text
    assert len(ana.buttons()) == 4 + 2  # the 4 dates not in the pass, « Back, Cancel
    reply = await ana.press("Jazz")
    assert f"is added to pass {sold.code}." in reply.text and "1 date left to pick." in reply.text

    await ana.send("/passes")
    reply = await ana.press("Add a date with a pass code")
    assert "Type the pass code printed on the pass" in reply.text
    reply = await ana.send("ZZZ-ZZZZ")
    assert reply.text.startswith("There is no pass ZZZ-ZZZZ.")
    reply = await ana.send(sold.code.lower().replace("-", " "))  # as people type it
    assert "Choose the date to add:" in reply.text
    reply = await ana.press("Jazz")
    assert "0 dates left to pick." in reply.text
    assert ana.buttons() == ["« My passes"]  # nothing more to add
    reply = await ana.send("/passes")
    assert "0 dates left to pick" in reply.text and "Add a date to" not in " ".join(ana.buttons())


async def test_another_customers_code_reads_as_a_wrong_one(desk: Desk) -> None:
    _, sold = await choice_pass(desk)
    await linked_customer(desk.ctx, BEN, email="ben@example.org", name="Ben")
    ben = desk.person(BEN)
    await ben.send("/passes")
    await ben.press("Add a date with a pass code")

    reply = await ben.send(sold.code)

    assert reply.text.startswith(f"There is no pass {sold.code}.")
    (still,) = await read(desk.ctx, select(Pass))
    assert still.choices_left == 2


async def test_a_required_photo_as_an_image_file_a_bomb_refused(desk: Desk) -> None:
    await make_product(desk.ctx, ga=True, holder_fields=rules.holder_fields({"photo": "required"}))
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/passes")
    await ana.press("Buy a pass")
    reply = await ana.press("Abonnement")
    assert "Step 1 of 1\nA photo of the holder" in reply.text
    assert "Skip" not in ana.buttons()  # required: no way past it but a photo (or Back)

    reply = await send_file(ana, png_bomb(60_000), as_photo=False)
    assert reply.text.startswith("This photo is too large")
    png = io.BytesIO()
    Image.new("RGBA", (300, 200), (200, 10, 10, 255)).save(png, format="PNG")
    reply = await send_file(ana, png.getvalue(), as_photo=False)
    assert "Photo: received" in reply.text
    reply = await ana.press("Hold, pay later")
    assert "is held for you until" in reply.text
    (sold,) = await read(desk.ctx, select(Pass))
    (photo,) = await read(desk.ctx, select(PassPhoto))
    assert (sold.photo_id, photo.width, photo.height) == (photo.id, 300, 200)
