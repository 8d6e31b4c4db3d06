"""Headless Chromium through Playwright, and the portal steps every browser test walks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.components import need, need_program

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHRASE = "Green kettle on the balcony"
"""The security phrase test recipients choose on their first login."""


def launch(playwright: Any, executable: str = CHROMIUM) -> Any:
    """Start headless Chromium (the system's) under a running Playwright."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@contextmanager
def chromium() -> Iterator[Any]:
    """Yield a headless Chromium; skip the test (fail under CI) when it or Playwright is absent."""
    executable = need_program(CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        need(False, "playwright is not installed")
        raise
    with sync_playwright() as playwright:
        browser = launch(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


def first_login(page: Any, pin: str, password: str, *, question: str | None = None) -> None:
    """On the portal's login page: log in with the PIN, then choose the password and answers.

    `question` picks a security question; without it the form's preselected one stays.
    """
    page.get_by_role("button", name="First login with a PIN").click()
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    if question is not None:
        page.locator(f"input[name=question][value={question}]").check()
    page.get_by_label("Answer", exact=True).fill("Bello")
    page.get_by_label("Security phrase").fill(PHRASE)
    page.get_by_role("button", name="Save and continue").click()
