"""One search for people, used everywhere (issue 10, point 4): the bookings list, the release
screen's customer filter and the customer directory find the same customers, by any part of
a name (accents and case aside, words in any order), the start of an email, a phone number in
any common form, or a booking reference, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from booking.context import Context
from booking.queries import directory, release_screen, search
from booking.queries.release_screen import ReleaseFilter
from booking.queries.search import BookingFilter
from booking.services import customers, linking, profiles
from booking.views import BookingView, CustomerView
from tests.builders import STAFF, Catalog, as_customer, make_catalog, make_held_booking

pytestmark = pytest.mark.asyncio


async def person(ctx: Context, name: str, email: str, phone: str = "") -> CustomerView:
    found, created = await customers.find_or_create_customer(
        ctx, actor=STAFF, email=email, name=name, phone=phone
    )
    assert created
    return found


async def booked(ctx: Context, cat: Catalog, customer: CustomerView) -> BookingView:
    return await make_held_booking(ctx, cat, customer, quantity=1)


async def bookings_of(ctx: Context, text: str) -> set[int]:
    """Customer ids of the bookings the console's booking search lists for ``text``."""
    page = await search.search_bookings(ctx, flt=BookingFilter(text=text), per_page=200)
    return {row.customer_id for row in page.rows}


async def directory_of(ctx: Context, text: str) -> set[int]:
    page = await directory.search_customers(ctx, text=text, per_page=200)
    return {row.id for row in page.rows}


async def released_of(ctx: Context, text: str) -> set[int]:
    flt = ReleaseFilter(customer=text, horizon_days=366)
    screen = await release_screen.release_screen(ctx, flt=flt, per_page=200)
    return {row.booking.customer_id for row in screen.page.rows}


async def test_the_names_of_the_issue_are_found(ctx: Context) -> None:
    cat = await make_catalog(ctx, capacity=200)
    jeanne = await person(ctx, "Jeanne Téléphone", "jeanne.ph@example.org", "079 123 45 67")
    marc = await person(ctx, "Marc Dubois", "m.dubois@example.org")
    other = await person(ctx, "Jean Neuhaus", "neuhaus@example.org", "+41 79 765 43 21")
    for customer in (jeanne, marc, other):
        await booked(ctx, cat, customer)
    for typed in (
        "jeanne",  # six reference letters: tried as a reference AND as a name
        "JEANNE",
        "telephone",  # no accent typed
        "Téléphone",
        "teleph",
        "jeanne telephone",
        "telephone jeanne",
        "jeanne.ph",  # the start of the email
        "JEANNE.PH@EXAMPLE",
        "+41 79 123 45 67",
        "+41791234567",
        "079 123 45 67",
        "0791234567",
        "0041 79 123 45 67",
        "079 123",  # the start of the number
    ):
        assert await bookings_of(ctx, typed) == {jeanne.id}, typed
        assert await directory_of(ctx, typed) == {jeanne.id}, typed
    for typed in ("dubois marc", "marc dubois", "Dubois", "dub ma", "m.dubois"):
        assert await bookings_of(ctx, typed) == {marc.id}, typed
    assert await bookings_of(ctx, "jean") == {jeanne.id, other.id}
    assert await bookings_of(ctx, "nobody") == set()
    assert await bookings_of(ctx, "jeanne dubois") == set()  # every word must match


async def test_a_reference_is_found_in_any_form_and_a_reference_shaped_name_as_a_name(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx, capacity=200)
    bazar = await person(ctx, "Bazart Zaheer", "bazart@example.org")  # "BAZART" -> "BAZ-ART"
    mine = await booked(ctx, cat, bazar)
    other = await booked(ctx, cat, await person(ctx, "Ana Test", "ana@example.org"))
    assert await bookings_of(ctx, "bazart") == {bazar.id}
    for typed in (other.reference, other.reference.lower(), other.reference.replace("-", "")):
        page = await search.search_bookings(ctx, flt=BookingFilter(text=typed))
        assert [r.reference for r in page.rows] == [other.reference], typed
    typed = mine.reference.lower().replace("-", " ")
    page = await search.search_bookings(ctx, flt=BookingFilter(text=typed))
    assert [r.reference for r in page.rows] == [mine.reference]


# (name as stored, searches that must find it: partial, accent-free, other order)
SHAPES: list[tuple[str, tuple[str, ...]]] = [
    ("Zoë Müller-Lüdenscheidt", ("zoe", "muller", "ludensch", "müller-lüd", "mullerlud")),
    (
        "Jean-Pierre de La Fontaine",
        ("jean-pierre", "jeanpierre", "pierre", "fontaine jean", "lafontaine", "delafont"),
    ),
    ("Ludwig van der Berg", ("van der berg", "vanderberg", "berg ludwig", "ludw")),
    ("Siobhán O'Brien", ("o'brien", "obrien", "brien", "siobhan", "O’Brien")),
    ("Jeanne d'Arc", ("d'arc", "darc", "arc jeanne", "jeanne d")),
    ("DUBOIS Marc", ("marc dubois", "dubois", "Dubois marc")),  # surname first
    ("Hans-Jürgen Groß", ("gross", "groß", "jurgen", "hans-jurgen", "hans gross")),
    ("Søren Kierkegaard", ("soren", "søren", "kierke")),
    ("Ægir Æsirsson", ("aegir", "ægir", "aesir")),
    ("Işıl Yıldız", ("isil", "yildiz", "yıldız")),  # Turkish dotless i
    ("İbrahim Öztürk", ("ibrahim", "ozturk", "öztürk")),  # Turkish dotted capital I
    ("María  José   García", ("maria jose", "garcia", "josé garcía")),  # double spaces
    ("François Lefèvre-Dupré", ("francois", "lefevre", "dupre", "lefevre-dupre")),
    ("Łukasz Żółkiewski", ("lukasz", "zolkiewski", "żółk")),
    ("Nguyễn Văn Thắng", ("nguyen", "van thang", "thang")),
    ("Anne-Marie Van den Bossche", ("vandenbossche", "bossche", "anne-marie", "annemarie")),
    ("Chloé Dœuvre", ("chloe", "doeuvre", "dœuvre")),
    ("Dmitri Šostakovič", ("sostakovic", "dmitri")),
    ("José Ángel dos Santos", ("angel", "dos santos", "dossantos", "jose")),
    ("Mary-Kate McAllister", ("mcallister", "mary-kate", "marykate", "mcal")),
    ("Åsa Ødegård", ("asa", "odegard", "åsa")),
    ("Renée Ølstrøm-Ångström", ("renee", "olstrom", "angstrom")),
    ("Đorđe Đoković", ("dorde", "dokovic", "đoković")),
]


async def test_real_world_name_shapes_are_found_by_part_and_without_accents(
    ctx: Context,
) -> None:
    assert len(SHAPES) >= 20
    cat = await make_catalog(ctx, capacity=200)
    ids: dict[str, int] = {}
    for i, (name, _) in enumerate(SHAPES):
        customer = await person(ctx, name, f"p{i}@example.org")
        await booked(ctx, cat, customer)
        ids[name] = customer.id
    missed = [
        (name, typed)
        for name, queries in SHAPES
        for typed in queries
        if ids[name] not in await bookings_of(ctx, typed)
    ]
    assert missed == []


async def test_the_release_screen_filter_and_the_bookings_search_give_the_same_customers(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx, capacity=200)
    people = [
        await person(ctx, "Jeanne Téléphone", "jeanne.ph@example.org", "079 123 45 67"),
        await person(ctx, "Marc Dubois", "marc@example.org"),
        await person(ctx, "Jean-Luc Picard", "jl@example.org"),
    ]
    for customer in people:
        await booked(ctx, cat, customer)
    for typed in (
        "jeanne",
        "telephone",
        "jean",
        "dubois marc",
        "jeanne.ph",
        "079 123 45 67",
        "+41791234567",
        "picard jean-luc",
        "nobody",
        "marc@",
    ):
        assert await released_of(ctx, typed) == await bookings_of(ctx, typed), typed
        assert await directory_of(ctx, typed) == await bookings_of(ctx, typed), typed


async def test_the_search_key_follows_every_write(ctx: Context) -> None:
    """Created by email, renamed, created in Telegram, an email proven later: each is found
    by what it is now, and no longer by what it was."""
    cat = await make_catalog(ctx, capacity=200)
    ana = await person(ctx, "Ana Test", "ana@example.org")
    await booked(ctx, cat, ana)
    await profiles.set_name(ctx, actor=STAFF, customer_id=ana.id, name="Élodie Gérard")
    assert await bookings_of(ctx, "elodie gerard") == {ana.id}
    assert await bookings_of(ctx, "ana test") == set()
    chat = await linking.register_telegram_customer(
        ctx, telegram_user_id=4242, chat_id=4242, name="Søren Telegramsen", language="en"
    )
    await make_held_booking(ctx, cat, chat, quantity=1)
    assert await bookings_of(ctx, "soren telegram") == {chat.id}
    assert as_customer(chat).id == chat.id


async def test_queries_that_look_for_nothing_list_everything_or_nothing(ctx: Context) -> None:
    cat = await make_catalog(ctx, capacity=200)
    ana = await person(ctx, "Ana Test", "ana@example.org")
    await booked(ctx, cat, ana)
    assert await bookings_of(ctx, "   ") == {ana.id}  # no text: no filter
    assert await bookings_of(ctx, "%") == set()  # only punctuation: nothing to look for
    assert await bookings_of(ctx, "_") == set()
