"""The pay page counts places as a person does: "2 × Standing", one line per ticket type and
price, not one line per place (issue 11, point 24)."""

from __future__ import annotations

import re

import pytest

from booking.context import Context
from console.payments.test_provider import TestProvider
from tests.builders import make_catalog, make_customer, make_held_booking
from tests.mail.conftest import PUBLIC_URL
from tests.mail.test_pay_page import client_for, link
from tests.support.english import english_in, visible_text


@pytest.mark.parametrize(
    ("language", "each", "total"),
    [("en", "CHF\u00a045.00 each", "CHF\u00a090.00"), ("fr", "45,00\u00a0CHF chacune", "90,00")],
)
async def test_two_places_of_one_tariff_make_one_line(
    ctx: Context, language: str, each: str, total: str
) -> None:
    cat = await make_catalog(ctx)
    customer = await make_customer(ctx, language=language)
    held = await make_held_booking(ctx, cat, customer, quantity=2)
    async with await client_for(ctx, TestProvider(PUBLIC_URL)) as web:
        page = await web.get(await link(ctx, held), headers={"accept-language": language})
    assert page.status_code == 200
    table = page.text.split("<table>", 1)[1].split("</table>", 1)[0]
    assert table.count("Standing") == 1, table
    assert re.search(r"2 × Standing", table)
    assert each in table and total in table
    if language == "fr":
        assert (
            english_in(visible_text(page.text), [customer.name, "Standing", "Test Concert"]) == []
        )
