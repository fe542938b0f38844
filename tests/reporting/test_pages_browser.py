"""The data-entry page in a real browser (headless Debian Chromium against pytest-django's live
server, launched like tests/ui): typing numbers shows the rate at once, the form saves itself and
says when, a refused cell does not hold back the others, a dropped network keeps the edits and
saves them when it is back, someone else's save is reported instead of overwritten, and the page
fits a phone screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from qc_core.indicators.services import load_library
from qc_core.reporting import services
from qc_core.reporting.models import DataValue, Submission
from tests.factories import PASSWORD
from tests.reporting.conftest import IN_WINDOW
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    if not (BASE_DIR / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").exists():
        pytest.skip("static/vendor is missing: run scripts/build_assets.sh")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio loop in this thread; the test's ORM calls stay sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
        # The ORM calls made while Playwright runs use their own connection: close it, or
        # PostgreSQL refuses to drop the test database at the end of the session.
        connections.close_all()


def _screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def _value(code: str) -> DataValue | None:
    return DataValue.objects.filter(
        submission__org_unit__code="HA001", indicator__code=code
    ).first()


def test_reporter_types_numbers_and_sees_the_live_rate_and_the_autosave(
    chromium, live_server, personas, time_machine
):
    time_machine.move_to(IN_WINDOW, tick=True)
    load_library()
    errors: list[str] = []
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", personas.reporter_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}/")
    entry = f"{live_server.url}/qc/entry/HA001/GER-Q/2026Q3/"
    page.goto(entry)

    # The rate follows the typing, before anything is saved: 3 ÷ 2100 × 1000 ‰.
    page.fill("#n-GER-O01", "3")
    assert page.inner_text("#rate-GER-O01") == "—"
    page.fill("#d-GER-O01", "2100")
    assert page.inner_text("#rate-GER-O01") == f"{3 / 2100 * 1000:.2f}"
    status = page.locator("#save-status[data-state=saved]")
    status.wait_for()
    assert status.inner_text().startswith("已自动保存于 10:0")
    value = _value("GER-O01")
    assert value is not None and (value.numerator, value.denominator) == (3, 2100)

    # Full-width digits from a Chinese keyboard; the server's check shows on the row.
    page.fill("#n-GER-O02", "５")
    page.fill("#d-GER-O02", "３")
    assert page.inner_text("#rate-GER-O02") == f"{5 / 3 * 100:.2f}"
    page.locator("#row-GER-O02 .gq-msg-error", has_text="不能大于分母").wait_for()
    assert page.locator("#submit-btn").is_disabled()
    assert "GER-O02" in page.inner_text("#blockers")

    # A cell that is not a number is refused on its row; the rest of the batch is still saved.
    page.fill("#n-GER-P04", "十二")
    page.fill("#n-GER-P05", "12")
    page.locator("#row-GER-P04 .gq-msg-error", has_text="GER-P04 分子").wait_for()
    page.wait_for_function("document.querySelector('#save-status').dataset.state === 'saved'")
    assert _value("GER-P05").numerator == 12 and _value("GER-P04") is None
    page.fill("#n-GER-P04", "１２")  # corrected: saved as well
    page.wait_for_function("Object.keys(localStorage).every(k => !k.startsWith('geriqc:entry:'))")
    assert _value("GER-P04").numerator == 12

    # The network drops: nothing is lost, and it is saved when the network is back.
    context.set_offline(True)
    page.fill("#n-GER-P01", "40")
    page.fill("#d-GER-P01", "50")
    page.locator("#save-status[data-state=offline]", has_text="离线，稍后自动保存").wait_for()
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('geriqc:entry:'))")
    assert len(stored) == 1 and "GER-P01" in page.evaluate(f"localStorage.getItem('{stored[0]}')")
    assert _value("GER-P01") is None
    context.set_offline(False)
    page.locator("#save-status[data-state=saved]").wait_for()
    page.wait_for_function(f"localStorage.getItem('{stored[0]}') === null")
    value = _value("GER-P01")
    assert value is not None and (value.numerator, value.denominator) == (40, 50)
    _screenshot(page, "qc_entry_desktop")

    # Someone else saves the form meanwhile: the next edit is refused with a clear message, and
    # the reloaded page offers the edit kept on this machine instead of losing or forcing it.
    sub = Submission.objects.get(org_unit__code="HA001", dataset__code="GER-Q")
    services.save_values(sub, [{"indicator": "GER-P02", "numerator": 7, "denominator": 10}],
                         personas.center)  # fmt: skip
    page.fill("#n-GER-P03", "33")
    page.locator("#entry-alert .alert-danger", has_text="已被他人修改").wait_for()
    assert page.get_attribute("#save-status", "data-state") == "conflict"
    page.reload()
    assert page.input_value("#n-GER-P02") == "7" and page.input_value("#n-GER-P03") == ""
    page.locator("#entry-alert", has_text="本机有 1 项未保存的修改").wait_for()
    page.get_by_role("button", name="使用本机修改").click()
    page.locator("#save-status[data-state=saved]").wait_for()
    assert _value("GER-P03").numerator == 33 and _value("GER-P02").numerator == 7

    # The reloaded page shows what was saved; on a phone it does not scroll sideways.
    page.set_viewport_size(PHONE)
    page.goto(entry)
    assert page.input_value("#n-GER-P01") == "40"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#row-GER-O01").scroll_into_view_if_needed()
    _screenshot(page, "qc_entry_phone", full_page=False)
    assert not errors, errors
    context.close()
