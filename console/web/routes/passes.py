"""Season passes (issue 12). Pass products: the list per season, the create and edit form, the
phone card preview and the A4 PDF preview, for organizers and administrators ("catalog").
Selling a pass at the box office (everyone at the desk: "bookings.create"): the customer found
by email or typed new, the dates a pass with choice picks, the holder fields the product asks
(the photo uploaded: pass_sale_form), the seat free at every included or picked date (or the
best one), held until the deadline or paid now; then the pass's own page with its phone card
and its A4 PDF."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from starlette.responses import Response
from starlette.routing import Route

from booking import pass_pdf
from booking.errors import BookingError
from booking.qr import qr_png
from booking.queries import pass_credit as credit_queries
from booking.queries import pass_products as queries
from booking.queries import pass_sale as sale_queries
from booking.queries import passes as pass_queries
from booking.queries import renewal_reports
from booking.queries.pass_products import PassProductDetail
from booking.queries.passes import PassDetail
from booking.rules import pass_holders
from booking.rules import pass_products as rules
from booking.rules.formatting import currency_choices, currency_code, minor_digits
from booking.rules.pass_products import PassProductSettings
from booking.services import catalog_admin, customers, pass_products, passes, payments, tickets
from booking.services.catalog_admin import EventRow, SeasonRow, VenueRow
from booking.views import CustomerView
from console.web.forms import Form, int_or_none, yes_no
from console.web.labels import N_, labeller
from console.web.pages import Page, guarded
from console.web.routes import pass_sale_form as sale_form

# A preview's QR says PUBLIC_URL/t/<this>: shorter than every real secret (32 characters of
# token_urlsafe), so it can never open a real ticket or pass.
SAMPLE_SECRET = "sample-pass"
SAMPLE_HOLDER = "Camille Exemple"
SAMPLE_CODE = "PASS-0000"

WORDS: dict[str, dict[str, str]] = {
    "seating": {"fixed_seat": N_("A fixed seat (numbered area)"), "ga": N_("General admission")},
    "includes": {
        "automatic": N_("Every date of the chosen events"),
        "choice": N_("Dates the holder picks"),
    },
    "mode": {"off": N_("Not asked"), "optional": N_("Optional"), "required": N_("Required")},
    "field": {
        "title": N_("Title (Ms, Mr…)"),
        "first_name": N_("First name"),
        "last_name": N_("Last name"),
        "company": N_("Company"),
        "email": N_("Email"),
        "address": N_("Address"),
        "postcode": N_("Postcode"),
        "mobile": N_("Mobile"),
        "birth_date": N_("Birth date"),
        "photo": N_("Photo"),
        "free": N_("Free field"),
    },
}


def words(page: Page, kind: str) -> dict[str, str]:
    return {k: page._(v) for k, v in WORDS[kind].items()}


def product_form(page: Page, s: PassProductSettings | None = None, **extra: str) -> Form:
    if s is None:
        return Form(
            None,
            page._,
            currency="CHF",
            customer_types=list(rules.CUSTOMER_TYPES),
            buy_channels=["telegram", "email", "console"],
            seating="fixed_seat",
            includes="automatic",
            accent_colour="#1f4e79",
            active="on",
            **{f"field_{name}": "off" for name in rules.HOLDER_FIELDS},
            **extra,
        )
    return Form(
        None,
        page._,
        season_id=str(s.season_id),
        name=s.name,
        price=page.formats.amount_input(s.price_minor, s.currency),
        currency=s.currency,
        customer_types=list(s.customer_types),
        buy_channels=list(s.buy_channels),
        seating=s.seating,
        area_id=str(s.area_id),
        includes=s.includes,
        choice_count="" if s.choice_count is None else str(s.choice_count),
        event_ids=[str(e) for e in s.event_ids],
        free_field_label=s.free_field_label,
        accent_colour=s.accent_colour,
        note=s.note,
        active="on" if s.active else "",
        **{f"field_{name}": mode for name, mode in s.holder_fields},
        **extra,
    )


def read_product(form: Form, events: list[EventRow]) -> PassProductSettings | None:
    currency = form.text("currency", required=True, max_length=12)
    digits = minor_digits(currency_code(currency) or "CHF")
    includes = form.choice("includes", rules.INCLUDES)
    settings = PassProductSettings(
        season_id=form.integer("season_id", required=True, low=1) or 0,
        name=form.text("name", required=True, max_length=rules.NAME_MAX),
        price_minor=form.amount("price", digits=digits) or 0,
        currency=currency,
        customer_types=form.many("customer_types", rules.CUSTOMER_TYPES),
        buy_channels=form.many("buy_channels", rules.CHANNELS),
        seating=form.choice("seating", rules.SEATINGS),
        area_id=form.integer("area_id", required=True, low=1) or 0,
        includes=includes,
        choice_count=form.integer(
            "choice_count", required=includes == "choice", low=1, high=rules.CHOICE_MAX
        ),
        event_ids=tuple(int(e) for e in form.many("event_ids", [str(e.id) for e in events])),
        holder_fields=tuple(
            (name, form.choice(f"field_{name}", rules.FIELD_MODES, default="off"))
            for name in rules.HOLDER_FIELDS
        ),
        free_field_label=form.text("free_field_label", max_length=rules.FREE_LABEL_MAX),
        accent_colour=form.text("accent_colour", required=True, max_length=20),
        note=form.text("note", max_length=rules.NOTE_MAX),
        active=form.flag("active"),
    )
    return settings if form.ok else None


def field_words(
    page: Page, seasons: list[SeasonRow], venues: list[VenueRow], events: list[EventRow]
) -> dict[str, dict[str, str]]:
    """Coded values of the form as a stale form shows them."""
    label = labeller(page._)
    modes = words(page, "mode")
    return {
        "season_id": {str(s.id): s.name for s in seasons},
        "area_id": {str(a.id): f"{v.name} · {a.name}" for v in venues for a in v.areas},
        "event_ids": {str(e.id): e.settings.title for e in events},
        "seating": words(page, "seating"),
        "includes": words(page, "includes"),
        "customer_types": {c: label("customer_type", c) for c in rules.CUSTOMER_TYPES},
        "buy_channels": {c: label("channel", c) for c in rules.CHANNELS},
        "active": yes_no(page._),
        **{f"field_{name}": modes for name in rules.HOLDER_FIELDS},
    }


def preview_url(page: Page) -> str:
    return tickets.ticket_url(public_url=page.ctx.settings.public_url, secret=SAMPLE_SECRET)


# -- the list -----------------------------------------------------------------------------------


@guarded("catalog")
async def products(page: Page) -> Response:
    seasons = await catalog_admin.list_seasons(page.ctx)
    rows = await queries.list_products(page.ctx)
    return page.render(
        "console/passes/list.html",
        seasons=[(s, [r for r in rows if r.season_id == s.id]) for s in seasons],
        words={k: words(page, k) for k in ("seating", "includes")},
    )


# -- the form -----------------------------------------------------------------------------------


async def _form_page(
    page: Page,
    form: Form,
    *,
    detail: PassProductDetail | None = None,
    status: int = 200,
) -> Response:
    venues = await catalog_admin.list_venues(page.ctx)
    return page.render(
        "console/passes/form.html",
        status=status,
        form=form,
        d=detail,
        seasons=await catalog_admin.list_seasons(page.ctx),
        areas=[
            (str(a.id), f"{v.name} · {a.name} · {page._(WORDS['seating'][_seating(a.kind)])}")
            for v in venues
            for a in v.areas
        ],
        events=await catalog_admin.list_events(page.ctx),
        currencies=currency_choices(page.staff.language),
        holder_fields=rules.HOLDER_FIELDS,
        modes=rules.FIELD_MODES,
        words={k: words(page, k) for k in WORDS},
        sample={"holder": SAMPLE_HOLDER, "code": SAMPLE_CODE, "url": preview_url(page)},
        qr=_qr_data_uri(preview_url(page)) if detail else "",
        ink=pass_pdf.ink_on(detail.row.settings.accent_colour) if detail else "",
    )


def _seating(area_kind: str) -> str:
    return "fixed_seat" if area_kind == "seated" else "ga"


def _qr_data_uri(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url, scale=5)).decode()


@guarded("catalog")
async def new_product(page: Page) -> Response:
    season = page.query("season")
    return await _form_page(page, product_form(page, season_id=season if season.isdigit() else ""))


@guarded("catalog")
async def create_product(page: Page) -> Response:
    form = Form(page.form, page._)
    events = await catalog_admin.list_events(page.ctx)
    settings = read_product(form, events)
    if settings is None:
        return await _form_page(page, form, status=400)
    try:
        product_id = await pass_products.create_product(
            page.ctx, actor=page.staff.actor(), settings=settings
        )
    except BookingError as exc:
        form.booking_error(exc, page.error(exc))
        return await _form_page(page, form, status=400)
    return page.redirect(
        f"/console/passes/products/{product_id}", flash=page._("Pass product created.")
    )


async def _detail(page: Page) -> PassProductDetail:
    product_id = int(page.request.path_params["product_id"])
    return await queries.product_detail(page.ctx, product_id=product_id)


@guarded("catalog")
async def product(page: Page) -> Response:
    detail = await _detail(page)
    form = product_form(page, detail.row.settings, version=detail.row.version)
    return await _form_page(page, form, detail=detail)


@guarded("catalog")
async def update_product(page: Page) -> Response:
    detail = await _detail(page)
    form = Form(page.form, page._)
    events = await catalog_admin.list_events(page.ctx)
    settings = read_product(form, events)
    if settings is not None:
        try:
            await pass_products.update_product(
                page.ctx,
                actor=page.staff.actor(),
                product_id=detail.row.id,
                expected=form.get("version"),
                settings=settings,
            )
        except BookingError as exc:
            if exc.code != "changed_meanwhile":
                form.booking_error(exc, page.error(exc))
            else:
                detail = await _detail(page)
                form.stale(
                    product_form(page, detail.row.settings, version=detail.row.version),
                    typed=product_form(page, rules.check(settings)),
                    words=field_words(
                        page,
                        await catalog_admin.list_seasons(page.ctx),
                        await catalog_admin.list_venues(page.ctx),
                        events,
                    ),
                )
    if not form.ok:
        return await _form_page(page, form, detail=detail, status=409 if form.problem else 400)
    return page.redirect(f"/console/passes/products/{detail.row.id}", flash=page._("Saved."))


@guarded("catalog")
async def set_active(page: Page) -> Response:
    detail = await _detail(page)
    active = page.value("active") == "on"
    await pass_products.set_active(
        page.ctx, actor=page.staff.actor(), product_id=detail.row.id, active=active
    )
    text = page._("The pass is on sale.") if active else page._("The pass is off sale.")
    return page.redirect(f"/console/passes/products/{detail.row.id}", flash=text)


@guarded("catalog")
async def preview_pdf(page: Page) -> Response:
    detail = await _detail(page)
    s = detail.row.settings
    pdf = pass_pdf.render(
        pass_pdf.PassPage(
            product_name=s.name,
            season_name=detail.row.season_name,
            holder_name=SAMPLE_HOLDER,
            seat=detail.sample_seat,
            pass_code=SAMPLE_CODE,
            qr_url=preview_url(page),
            accent_colour=s.accent_colour,
            note=s.note,
            language=page.staff.language,
        )
    )
    return _pdf(pdf, f"pass-{detail.row.id}-preview.pdf")


# -- selling a pass at the box office ----------------------------------------------------------

LANGUAGES = ("en", "fr")
PAYMENT = ("hold", "cash", "card", "transfer")
BEST_SEAT = "best"
TEXT_FIELDS = pass_holders.TEXT_FIELDS  # the photo is a file (pass_sale_form.read_photo)
FILED = N_("{name} is on file now (needed to keep the photo); nothing else was written.")


def asked(detail: PassProductDetail) -> list[tuple[str, str]]:
    """(field, mode) of the text fields the product asks, in purchase order."""
    return [(n, m) for n, m in detail.row.settings.holder_fields if m != "off" and n in TEXT_FIELDS]


@guarded("bookings.create")
async def sell_list(page: Page) -> Response:
    return page.render(
        "console/passes/sell_list.html",
        products=await sale_queries.products_on_sale(page.ctx),
        words={k: words(page, k) for k in ("includes",)},
    )


async def _sale_page(
    page: Page,
    form: Form,
    sale: sale_form.Offer,
    customer: CustomerView | None,
    *,
    status: int = 200,
    filed: CustomerView | None = None,
) -> Response:
    return page.render(
        "console/passes/sell.html",
        status=status,
        form=form,
        sale=sale,
        d=sale.product,
        customer=customer,
        asked=asked(sale.product),
        words={k: words(page, k) for k in WORDS},
        free_label=sale.product.row.settings.free_field_label,
        languages=LANGUAGES,
        payment=PAYMENT,
        seats=[(BEST_SEAT, page._("Best available"))]
        + [(str(c.id), c.place.label(page.staff.language)) for c in sale.seats],
        picked={str(p) for p in sale_form.typed_picks(form)},
        filed=page._(FILED).format(name=filed.name) if filed else "",
        names={"photo": sale_form.PHOTO, "kept": sale_form.KEPT, "drop": sale_form.DROP},
    )


async def _sale(page: Page, picks: Sequence[int] = ()) -> sale_form.Offer:
    return await sale_form.offer(page, int(page.request.path_params["product_id"]), picks)


@guarded("bookings.create")
async def sell_form(page: Page) -> Response:
    """The sale form; ``?email=`` looks the customer up first (found: sold to them; not
    found: the form asks the new customer's name)."""
    sale = await _sale(page)
    email = page.query("email").strip()[:254]
    form = Form(None, page._, email=email, seat=BEST_SEAT, payment="hold",
                language="fr" if page.staff.language == "fr" else "en")  # fmt: skip
    customer = None
    if email:
        try:
            customer = await customers.find_by_email(page.ctx, email=email)
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="email")
        if customer is not None:
            form.values["customer_id"] = str(customer.id)
    return await _sale_page(page, form, sale, customer)


@guarded("bookings.create")
async def sell(page: Page) -> Response:
    """Sell the pass as typed; "show the free seats" (a pass with choice and a fixed seat)
    comes back with the seats free at the ticked dates instead, nothing sold."""
    form = Form(page.form, page._)
    sale = await _sale(page, sale_form.typed_picks(form))
    customer = await page.chosen_customer(form.get("customer_id"))
    photo = await sale_form.read_photo(page, form, sale)
    if page.value("action") == "seats":
        return await _sale_page(page, form, sale, customer)
    order = _order(page, form, sale, customer, photo)
    if not form.ok:
        return await _sale_page(page, form, sale, customer, status=400)
    attempt = await sale_form.sell(page, sale, order)
    if attempt.sold is None:
        assert attempt.refusal is not None
        if attempt.filed is not None:  # on file now: the next try sells to them
            customer = attempt.filed
            form.values["customer_id"] = str(customer.id)
        exc = attempt.refusal
        form.booking_error(exc, page.error(exc), field=sale_form.error_field(exc, sale))
        return await _sale_page(page, form, sale, customer, status=400, filed=attempt.filed)
    return await _paid(page, attempt.sold, payment=form.get("payment"))


def _order(
    page: Page,
    form: Form,
    sale: sale_form.Offer,
    customer: CustomerView | None,
    photo: bytes | None,
) -> sale_form.Order:
    """The sale as typed; each problem recorded beside its field."""
    new = None
    if customer is None:
        new = passes.NewCustomer(
            name=form.text("name", required=True),
            email=form.text("email", required=True, max_length=254),
            language=form.choice("language", LANGUAGES),
        )
    answers = {name: form.get(f"holder_{name}") for name, _ in asked(sale.product)}
    seat = form.get("seat") or BEST_SEAT
    seat_id = None if seat == BEST_SEAT else int_or_none(seat)
    if seat != BEST_SEAT and seat_id is None:
        form.error("seat", N_("Choose a seat from the list."))
    picks = sale_form.read_picks(page, form, sale) if sale.with_choice else []
    if photo is None and sale.photo_mode == "required" and sale_form.PHOTO not in form.errors:
        missing = BookingError("holder_field_required", field=sale_form.PHOTO)
        form.booking_error(missing, page.error(missing))
    payment = form.choice("payment", PAYMENT)
    return sale_form.Order(customer, new, answers, seat_id, picks, photo, payment != "hold")


async def _paid(page: Page, sold: passes.SoldPass, *, payment: str) -> Response:
    """To the pass's page: held, or paid now at the desk."""
    url = f"/console/passes/{sold.id}"
    if payment == "hold":
        return page.redirect(url, flash=page._("Pass held until its deadline."))
    try:
        await payments.record_box_office_payment(
            page.ctx, actor=page.staff.actor(), reference=sold.reference, method=payment
        )
    except BookingError as exc:
        return page.redirect(url, flash=page.error(exc), level="error")
    return page.redirect(url, flash=page._("Pass sold and paid."))


# -- one sold pass ------------------------------------------------------------------------------


async def _pass(page: Page) -> PassDetail:
    return await pass_queries.pass_detail(
        page.ctx, pass_id=int(page.request.path_params["pass_id"])
    )


def _seat_text(page: Page, found: PassDetail) -> str:
    if found.seat is None:
        return found.product.row.area_name
    return found.seat.label(page.staff.language)


def pass_url(page: Page, found: PassDetail) -> str:
    return tickets.ticket_url(page.ctx.settings.public_url, found.secret)


@guarded("bookings.view")
async def pass_page(page: Page) -> Response:
    found = await _pass(page)
    s = found.product.row.settings
    return page.render(
        "console/passes/pass.html",
        p=found,
        d=found.product,
        words={k: words(page, k) for k in WORDS},
        card_seat=_seat_text(page, found),
        sample={"holder": found.holder_name, "code": found.code},
        qr=_qr_data_uri(pass_url(page, found)),
        ink=pass_pdf.ink_on(s.accent_colour),
        fields=[n for n in TEXT_FIELDS if n in found.holder],
        lineage=await renewal_reports.lineage(page.ctx, pass_id=found.id),
        ledger=await credit_queries.movements(page.ctx, pass_id=found.id),  # its credit's
    )


@guarded("bookings.view")
async def pass_pdf_file(page: Page) -> Response:
    """The pass exactly as its holder receives it by email (photo included)."""
    found = await _pass(page)
    printed = await pass_pdf.pass_file(page.ctx, pass_id=found.id, language=page.staff.language)
    return _pdf(printed.pdf, printed.filename)


def _pdf(body: bytes, filename: str) -> Response:
    """Shown in the browser (inline), saved under ``filename``."""
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    return Response(body, media_type="application/pdf", headers=headers)


routes = [
    Route("/passes", products, methods=["GET"]),
    Route("/passes/sell", sell_list, methods=["GET"]),
    Route("/passes/products/{product_id:int}/sell", sell_form, methods=["GET"]),
    Route(
        "/passes/products/{product_id:int}/sell",
        sell,
        methods=["POST"],
        max_body_size=sale_form.BODY_MAX,  # the holder's photo: the app's limit is lower
    ),
    Route("/passes/{pass_id:int}", pass_page, methods=["GET"]),
    Route("/passes/{pass_id:int}/pass.pdf", pass_pdf_file, methods=["GET"]),
    Route("/passes/{pass_id:int}/photo.jpg", sale_form.photo, methods=["GET"]),
    Route("/passes/products/new", new_product, methods=["GET"]),
    Route("/passes/products", create_product, methods=["POST"]),
    Route("/passes/products/{product_id:int}", product, methods=["GET"]),
    Route("/passes/products/{product_id:int}", update_product, methods=["POST"]),
    Route("/passes/products/{product_id:int}/active", set_active, methods=["POST"]),
    Route("/passes/products/{product_id:int}/preview.pdf", preview_pdf, methods=["GET"]),
]
