"""In Chromium: the dashboard opens on Adult with the paper's choice, and the audit shows the imbalance."""

from __future__ import annotations

from tests.e2e.conftest import open_page, screenshot, wait_idle


def test_opens_on_adult_and_audits_it(page, server: str) -> None:
    page.goto(server)
    page.get_by_text("48,842 rows × 15 columns").first.wait_for()
    wait_idle(page)
    assert "ws=" in page.url  # the workspace id that lets a reload find its runs
    screenshot(page, "01-data")
    open_page(page, server, "Data audit")
    page.get_by_text("1,769 rows").first.wait_for()
    page.get_by_text("relationship").first.wait_for()
    screenshot(page, "02-audit")
