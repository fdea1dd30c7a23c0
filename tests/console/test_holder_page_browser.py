"""The holder page in headless Chromium (issue 13), in English and French, served by a real
uvicorn, the code mailed over real SMTP: the holder types their email and pass code, then the
code from the mail, sees their pass, downloads its PDF and signs out. Screenshots of each step
go to artifacts/screenshots/holder-*.png."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from booking.context import Context
from tests.console.holder_page import Mail, app_for, forget_throttles, holder, season
from tests.console.served import served
from tests.console.test_browser import ARGS, CHROMIUM, SHOTS
from tests.support.fixtures import require_service, smtp_server  # noqa: F401
from tests.support.mailservers import SmtpRecorder

pytestmark = pytest.mark.slow

WORDS = {
    "en": {
        "email": "Email address",
        "pass_code": "Pass code",
        "send": "Send me a code",
        "code": "Code from the email",
        "sign_in": "Sign in",
        "signed_in": "Signed in as",
        "pdf": "Download the pass (PDF)",
        "sign_out": "Sign out",
        "signed_out": "You are signed out.",
    },
    "fr": {
        "email": "Adresse e-mail",
        "pass_code": "Code de l'abonnement",
        "send": "M'envoyer un code",
        "code": "Code reçu par e-mail",
        "sign_in": "Se connecter",
        "signed_in": "Connecté en tant que",
        "pdf": "Télécharger l'abonnement (PDF)",
        "sign_out": "Se déconnecter",
        "signed_out": "Vous êtes déconnecté.",
    },
}


@pytest.fixture
async def mail(ctx: Context, smtp_server: SmtpRecorder) -> AsyncIterator[Mail]:  # noqa: F811
    await forget_throttles(ctx)
    found = Mail(ctx, smtp_server)
    ctx.settings = ctx.settings.model_copy(update={"public_url": "http://127.0.0.1:8000"})
    yield found
    await found.close()


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
async def test_in_chromium_the_holder_signs_in_sees_the_pass_and_signs_out(
    ctx: Context, mail: Mail, locale: str
) -> None:
    require_service(os.access(CHROMIUM, os.X_OK), f"Chromium is not installed at {CHROMIUM}")
    from playwright.async_api import async_playwright

    words = WORDS[locale]
    ana = await holder(ctx, await season(ctx), language=locale)
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with served(app_for(ctx)) as base, async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await chromium.new_page(
                viewport={"width": 420, "height": 900}, accept_downloads=True
            )
            await page.goto(f"{base}/account?lang={locale}")
            await page.get_by_label(words["email"]).fill(ana.email)
            await page.get_by_label(words["pass_code"]).fill(ana.code.lower())
            await page.screenshot(path=str(SHOTS / f"holder-signin-{locale}.png"), full_page=True)
            await page.get_by_role("button", name=words["send"]).click()
            await page.wait_for_url("**/account/code")
            await page.screenshot(path=str(SHOTS / f"holder-code-{locale}.png"), full_page=True)
            await page.get_by_label(words["code"]).fill(await mail.code_for(ana.email))
            await page.get_by_role("button", name=words["sign_in"]).click()
            await page.wait_for_url("**/account")
            body = await page.inner_text("body")
            assert words["signed_in"] in body and ana.code in body
            await page.screenshot(path=str(SHOTS / f"holder-passes-{locale}.png"), full_page=True)
            async with page.expect_download() as waiting:
                await page.get_by_role("link", name=words["pdf"]).click()
            download = await waiting.value
            assert download.suggested_filename == f"pass-{ana.code}.pdf"
            await page.get_by_role("button", name=words["sign_out"]).click()
            await page.wait_for_url("**/account")
            assert words["signed_out"] in await page.inner_text("body")
        finally:
            await chromium.close()
