"""In a real browser, from the keyboard: a pre-GMP scientist designs a central composite
experiment on the demo's CAR-T project, types in the results, reads the analysis and its
Plotly charts (no CSP complaint), and writes the proven IL-2 range back to the process
(issue 14, items 5 and 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from tests.e2e.axe import assert_accessible

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def _fold(il2: float, density: float) -> float:
    x1, x2 = (il2 - 100) / 50, (density - 1.0) / 0.5
    return 25 + 4 * x1 + 2 * x2 - 3 * x1**2 - 4 * x2**2 + 0.01 * (il2 % 7)


def test_a_pre_gmp_scientist_builds_a_doe_from_the_keyboard(page: Page, live_server: str) -> None:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    _login(page, live_server, "scientist")
    page.goto(f"{live_server}/translation/doe")
    page.get_by_role("link", name="Design an experiment").focus()
    page.keyboard.press("Enter")

    form = page.get_by_test_id("design-form")
    form.get_by_label("Project").focus()
    page.keyboard.type("TP-CART19")
    page.keyboard.press("Tab")
    page.keyboard.type("IL-2 and density CCD")
    page.keyboard.press("Tab")
    page.keyboard.type("Central")
    form.get_by_label("Factors, one per line").focus()
    page.keyboard.type("IL-2, 50, 150, IU/mL, activation, il2")
    page.keyboard.press("Enter")
    page.keyboard.type("Seeding density, 0.5, 1.5, 1e6/mL, activation, seeding_density")
    form.get_by_label("Responses, one per line").focus()
    page.keyboard.type("Fold expansion, fold, maximise, 20")
    form.get_by_label("Donors (blocks)").focus()
    page.keyboard.type("D1, D2")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    form.get_by_label("Seed of the run order").focus()
    page.keyboard.type("2026")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("seed")).to_have_text("2026")
    rows = page.get_by_test_id("run-sheet").locator("tbody tr")
    expect(rows).to_have_count(22)
    lines = ["run,Fold expansion"]
    for i in range(22):
        cells = rows.nth(i).locator("td").all_inner_texts()
        lines.append(f"{cells[0]},{_fold(float(cells[3]), float(cells[4])):.3f}")
    results = page.get_by_test_id("results-form").get_by_label("Results as CSV")
    results.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("\n".join(lines))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("notice")).to_contain_text("22 value(s) recorded")
    expect(page.get_by_test_id("fit-summary")).to_contain_text("R²")
    expect(page.get_by_test_id("coefficients")).to_contain_text("IL-2 × Seeding density")
    expect(page.locator("#surface-0.js-plotly-plot")).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("optimum")).to_contain_text("to")
    assert_accessible(page)

    write_back = page.get_by_test_id("write-back-form")
    write_back.get_by_label("Write the proven range of").focus()
    page.keyboard.press("Tab")
    page.keyboard.type("the CCD keeps fold expansion above 20 across this range")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("notice")).to_contain_text("is now in process definition version")
    assert problems == []


def test_a_pre_gmp_scientist_costs_the_process_and_compares_scenarios(
    page: Page, live_server: str
) -> None:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    _login(page, live_server, "scientist")
    page.goto(f"{live_server}/translation/cost")
    form = page.get_by_test_id("cost-form")
    form.get_by_label("Project").focus()
    page.keyboard.type("TP-CART19")
    page.keyboard.press("Tab")
    page.keyboard.type("GMP process")
    page.keyboard.press("Tab")
    page.keyboard.type("18")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("scenarios")).to_contain_text("Batches per year")
    scenario = page.get_by_test_id("scenario-form")
    scenario.get_by_label("Name").focus()
    page.keyboard.type("50 a year")
    scenario.get_by_label("Batches per year").focus()
    page.keyboard.type("50")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("scenarios")).to_contain_text("50 a year")
    expect(page.locator("#cost-scenarios.js-plotly-plot")).to_be_visible(timeout=20_000)
    expect(page.locator("#cost-tornado.js-plotly-plot")).to_be_visible()
    expect(page.get_by_test_id("published")).to_contain_text("HemaSphere 2021")
    assert_accessible(page)
    assert problems == []
