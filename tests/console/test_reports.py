"""Reports: sales and holds per event and day, cancellation reasons as an SVG chart, holds
that expired; CSV downloads of each."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import cancellations, payments, releases
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory


async def season_of_activity(ctx: Context, clock: FrozenClock) -> None:
    """Day 1: four holds, one paid, two cancelled (illness, price). Day 2: the last expires."""
    cat = await make_catalog(ctx, policy="firm", days_after_booking=1)
    made = [
        await make_held_booking(
            ctx,
            cat,
            await make_customer(ctx, email=f"r{i}@example.org", name=f"R {i}"),
            quantity=i + 1,
        )
        for i in range(4)
    ]
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=made[0].reference, method="cash"
    )
    await cancellations.cancel(ctx, actor=STAFF, reference=made[1].reference, reason="illness")
    await cancellations.cancel(ctx, actor=STAFF, reference=made[2].reference, reason="price")
    clock.advance(timedelta(days=2))
    await releases.release_due(ctx)


async def test_the_reports_page_shows_every_report_and_the_svg_chart(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    await season_of_activity(app_ctx, clock)
    console = await console_for("organizer")
    page = await console.get("/console/reports")
    assert page.status_code == 200
    text = page.text
    assert "Mon 23 Nov 2026" in text and "CHF\u00a045.00" in text  # the one sale, 1 place
    assert "CHF\u00a0450.00" in text  # holds made that day: 1+2+3+4 places x 45.00
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and 'role="img"' in text
    assert "Illness: 1" in text and "Price: 1" in text
    assert re.search(r"\b1 hold(?!s)\b", text)  # the expired one, in the singular (ngettext)
    narrowed = await console.get("/console/reports", **{"from": "2026-12-01", "to": "2026-12-31"})
    assert "No cancellations in this period." in narrowed.text
    wrong = await console.get("/console/reports", **{"from": "2026-12-31", "to": "2026-01-01"})
    assert "That period is not valid" in wrong.text


async def test_each_report_downloads_as_csv(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    await season_of_activity(app_ctx, clock)
    console = await console_for("admin")
    rows = {}
    for name in ("sales", "holds", "cancellations", "expired"):
        answer = await console.get(f"/console/reports/{name}.csv")
        assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
        rows[name] = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert rows["sales"][1] == ["2026-11-23", "Test Concert", "1", "1", "45.00", "CHF"]
    assert rows["holds"][1][2:5] == ["4", "10", "450.00"]
    assert sorted(r[1] for r in rows["cancellations"][1:]) == ["illness", "price"]
    assert len(rows["expired"]) == 2 and rows["expired"][1][1] == "expired"
    assert (await console.get("/console/reports/nothing.csv")).status_code == 404
    desk = await console_for("box_office")
    assert (await desk.get("/console/reports/sales.csv")).status_code == 403
