"""Browser-test fixtures: built static assets, one headless Debian Chromium per session, a fresh
page per test (with a screenshot of its final state under ``VAR_DIR/screenshots/``), and a
``login`` helper that signs in through the real form.

The live server (pytest-django) serves static files through Django's StaticFilesHandler, which
reads ``STATICFILES_DIRS`` — so ``static/vendor`` must exist: the session fixture builds it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.factories import PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GERIQC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def built_assets() -> Path:
    """Run scripts/build_assets.sh once (it skips npm ci when node_modules is current)."""
    vendor = BASE_DIR / "static" / "vendor"
    if shutil.which("npm") or (BASE_DIR / "node_modules").is_dir():
        result = subprocess.run(
            ["bash", str(BASE_DIR / "scripts" / "build_assets.sh")],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"scripts/build_assets.sh failed:\n{result.stdout}\n{result.stderr}")
    if not (vendor / "bootstrap" / "bootstrap.min.css").exists():
        pytest.skip(
            "static/vendor is missing and npm is not installed: run scripts/build_assets.sh"
        )
    return vendor


@pytest.fixture(scope="package")
def browser(built_assets: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; the tests' own ORM calls are
    # still synchronous, so Django's async-safety guard must not trip on them. Package scope
    # restores the guard as soon as the browser tests are done.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def screenshot_path(request: pytest.FixtureRequest, suffix: str = "") -> Path:
    """``VAR_DIR/screenshots/<test name><suffix>.png``."""
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name) + suffix + ".png")


@pytest.fixture
def console_errors() -> list[str]:
    """JavaScript errors and failed loads the page reported; a test expecting some clears them."""
    return []


def _new_page(
    browser: Any,
    request: pytest.FixtureRequest,
    viewport: dict[str, int],
    errors: list[str],
    *,
    full_page: bool,
) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield page
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        page.screenshot(path=str(screenshot_path(request)), full_page=full_page)
        context.close()


@pytest.fixture
def save_screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``save_screenshot(page, "_menu")`` keeps an extra screenshot of the current screen."""

    def _save(page: Any, suffix: str) -> Path:
        path = screenshot_path(request, suffix)
        page.screenshot(path=str(path))
        return path

    return _save


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, console_errors: list[str]) -> Iterator[Any]:
    """A desktop-sized page; its final state is saved as a screenshot."""
    yield from _new_page(browser, request, DESKTOP, console_errors, full_page=True)


@pytest.fixture
def phone_page(
    browser: Any, request: pytest.FixtureRequest, console_errors: list[str]
) -> Iterator[Any]:
    """A 375×812 phone-sized page; its final screen is saved as a screenshot."""
    yield from _new_page(browser, request, PHONE, console_errors, full_page=False)


@pytest.fixture
def login(live_server: Any) -> Callable[..., None]:
    """``login(page, user)`` signs in through the login form and waits for the home page."""

    def _login(page: Any, user: Any, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("#login-submit")
        page.wait_for_url(f"{live_server.url}/")

    return _login
