"""In a real browser, with the keyboard only: the Qualified Person reads the review by exception
of a batch whose sterility result is still pending, and certifies it before all results under the
facility's written procedure, signing with their password."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.axe import assert_accessible

from atmpchain.accounts import sessions
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import DEMO_PASSWORD
from atmpchain.demo_manufacturing import _lots, _patient, _step
from atmpchain.demo_release import pass_qc
from atmpchain.environmental_monitoring import assessment
from atmpchain.environmental_monitoring import queries as em_queries
from atmpchain.manufacturing import batches, mbr_format, units
from atmpchain.manufacturing.domain import UnitKind
from atmpchain.uow import UnitOfWork

pytestmark = pytest.mark.browser


def _awaiting_release(path: Path) -> str:
    """A second finished CAR-T batch (a new trial patient), its results in but sterility."""
    db = Database(f"sqlite:///{path}")
    settings = Settings(
        database_url=f"sqlite:///{path}", display_timezone="Europe/Vienna", facility_fin="A9999"
    )
    clock = FixedClock(UnitOfWork(db, settings=settings).clock.now() - timedelta(days=11, hours=12))
    uow = UnitOfWork(db, clock, channel="cli", settings=settings)

    def login(name: str):  # type: ignore[no-untyped-def]
        return sessions.login(uow, username=name, password=DEMO_PASSWORD).actor

    operator, scientist = login("operator"), login("scientist")
    coi, scan = _patient(
        uow,
        login("physician"),
        login("pharmacist"),
        operator,
        ("P-2003", "Mia Keyboard", date(1990, 5, 1)),
        DEMO_PASSWORD,
    )
    lots = _lots(uow)
    number = batches.start_batch(
        uow,
        actor=operator,
        request=batches.StartRequest(
            mbr_code=mbr_format.cart_example().code,
            patient_coi=coi,
            starting_material_scan=scan,
            trial_code="CART-19-001",
        ),
    )
    batches.clear_line(
        uow, actor=operator, batch_number=number, password=DEMO_PASSWORD, checks="room clear"
    )
    for ref in ("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08"):
        clock.advance(
            {"S04": timedelta(hours=20), "S05": timedelta(days=10)}.get(ref, timedelta(minutes=30))
        )
        _step(uow, operator, scientist, DEMO_PASSWORD, number, ref, lots)
    units.make_units(uow, actor=operator, batch_number=number, kind=UnitKind.FINAL)
    pass_qc(uow, DEMO_PASSWORD, number)
    # The batch shared the demo's sessions, where EM had an action event: QA assesses its impact
    # on this batch before the QP may certify (issue 13 item 8).
    with db.read_session() as session:
        waiting = em_queries.em_for_batch(session, number).unassessed_action_events
    for event in waiting:
        assessment.assess_impact(
            uow,
            actor=login("qa"),
            excursion_id=event.id,
            batch_number=number,
            impact="no_impact",
            rationale="Receipt area air sample; the product stayed closed in its bag.",
            password=DEMO_PASSWORD,
        )
    db.dispose()
    return number


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Tab (only the keyboard) until the element that matches `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {selector}")


def test_a_qp_reviews_and_certifies_before_all_results_with_the_keyboard_only(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    number = _awaiting_release(tmp_path / "e2e.db")
    page.goto(f"{live_server}/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type("qp")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()
    page.goto(f"{live_server}/release/batches/{number}")
    review = page.get_by_test_id("review")
    expect(review).to_contain_text("Sterility: result pending (negative to date)")
    # The EM of the batch's sessions is read (issue 13 item 8): assessed, it no longer blocks.
    expect(review).to_contain_text("D1-RECEIPT")
    expect(page.get_by_test_id("fine-steps")).to_contain_text("all 8 steps signed")
    assert_accessible(page)
    _tab_to(page, "input[name=decision]")
    page.keyboard.press("ArrowDown")  # the second decision: before all results
    expect(page.locator("input[value=certified_before_all_results]")).to_be_checked()
    _tab_to(page, "#procedure")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#procedure")).to_have_value("SOP-QP-012 v1")
    _tab_to(page, "#password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    decided = page.get_by_test_id("certification")
    expect(decided).to_contain_text("certified for release before all results")
    expect(decided).to_contain_text("Sterility, Mycoplasma, Vector copy number")
