"""In a real browser, with the keyboard only: an operator executes a batch step on the cleanroom
tablet page (scan the device, scan the lot, type the values, sign), one field at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from atmpchain.db import Database
from atmpchain.demo import DEMO_PASSWORD
from atmpchain.demo_manufacturing import DEVICE
from atmpchain.manufacturing import queries
from atmpchain.materials import queries as material_queries
from atmpchain.materials.domain import LotStatus

pytestmark = pytest.mark.browser


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def _type(page: Page, text: str) -> None:
    """A scanner (or the operator) types, then Enter, into the field that has the focus."""
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def test_an_operator_executes_a_step_with_the_keyboard_only(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    with db.read_session() as session:
        number = next(b.number for b in queries.batch_lines(session) if b.status == "in_process")
        medium = next(
            lot.lot_code
            for lot in material_queries.lots(
                session, on=datetime.now(UTC).date(), status=LotStatus.RELEASED, item_code="MEDIUM"
            )
        )
    db.dispose()
    _login(page, live_server, "operator")
    page.goto(f"{live_server}/manufacturing/batches/{number}/operate")
    expect(page.get_by_test_id("step-title")).to_contain_text("Step S02")
    expect(page.locator("#scan")).to_be_focused()
    _type(page, DEVICE)
    expect(page.get_by_test_id("last")).to_contain_text(DEVICE)
    expect(page.locator("#scan")).to_be_focused()
    _type(page, medium)
    expect(page.get_by_test_id("last")).to_contain_text(medium)
    expect(page.locator("#value")).to_be_focused()
    _type(page, "3.0")
    expect(page.locator("#value")).to_be_focused()
    _type(page, "1.8")
    # The room scanned where the step was done (issue 13 item 6); a scanner ends with Enter,
    # and the browser moves on to the one field still empty: the password.
    expect(page.locator("#location")).to_be_focused()
    _type(page, "RM:CR-C1")
    expect(page.locator("#password")).to_be_focused()
    _type(page, DEMO_PASSWORD)
    expect(page.get_by_test_id("step-title")).to_contain_text("Step S03")
    expect(page.get_by_test_id("last")).to_contain_text("performed")
