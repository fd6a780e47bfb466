"""`atmpchain hospital ...`: catalogue, board, a dose's record, traceability, the watcher."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle
from tests.conftest import Persona
from tests.integration.hospital.conftest import (  # noqa: F401 - fixtures used by name
    PASSWORD,
    Staff,
    approved_catalogue,
    cryostore,
    manufactured,
    order,
    staff,
)
from tests.integration.hospital.test_fhir_export import walk
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.clock import FixedClock, SystemClock
from atmpchain.hospital.models import Dose
from atmpchain.uow import UnitOfWork

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", PASSWORD)
    monkeypatch.setenv("ATMPCHAIN_DISPLAY_TIMEZONE", "Europe/Vienna")
    monkeypatch.setenv("COLUMNS", "250")  # keep Rich's table rows on one line each


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_catalogue_is_loaded_listed_and_approved_from_the_terminal(
    make_persona: Callable[..., Persona], tmp_path: Path
) -> None:
    make_persona(Role.PHARMACIST, username="parker", full_name="Parker Pharm")
    make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    loaded = _ok(["hospital", "catalogue", "load", "--as", "parker"])
    assert "proposed for QA approval" in loaded and "tisagenlecleucel" in loaded
    assert "r1: Starting catalogue" in _ok(["hospital", "catalogue", "list"])

    # The proposer cannot approve their own proposal; QA can.
    refused = runner.invoke(
        app, ["hospital", "catalogue", "approve", "tisagenlecleucel", "1", "--as", "parker"]
    )
    assert refused.exit_code == 1
    approved = _ok(["hospital", "catalogue", "approve", "tisagenlecleucel", "1", "--as", "quinn"])
    assert "approved and in force, signed by Quinn Reviewer" in approved
    listed = _ok(["hospital", "catalogue", "list"])
    kymriah = next(line for line in listed.splitlines() if "tisagenlecleucel" in line)
    assert "r1 (unverified)" in kymriah

    broken = tmp_path / "broken.toml"
    broken.write_text("[[product]]\ncode = 'x'\n", "utf-8")
    result = runner.invoke(
        app, ["hospital", "catalogue", "load", str(broken), "--as", "parker", "--reason", "test"]
    )
    assert result.exit_code == 1 and "code must have" in result.output


def test_a_dose_is_shown_printed_exported_and_traced_from_the_terminal(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,  # noqa: F811
    order: Callable[..., int],  # noqa: F811
    cryostore: str,  # noqa: F811
    tmp_path: Path,
    make_persona: Callable[..., Persona],
) -> None:
    dose_id = walk(uow, clock, staff, order, cryostore, "infused")
    assert dose_id == 1

    shown = _ok(["hospital", "dose", "show", "D000001", "--as", "nora"])
    for fact in ("PSN-0001 Maria Muster", "Infusion ended", "Parker Pharm, performed"):
        assert fact in shown
    # Each pre-infusion check with who confirmed it, and the ward's signed receipt.
    assert shown.count("Bag intact, no leaks; contents thawed") == 1
    assert "NOT CONFIRMED" not in shown and "received on the ward" in shown

    pdf = tmp_path / "record.pdf"
    written = _ok(["hospital", "dose", "record", "D000001", "-o", str(pdf), "--as", "nora"])
    assert "written to" in written and pdf.read_bytes().startswith(b"%PDF")

    exported = _ok(["hospital", "dose", "fhir", "d1", "--as", "nora"])
    bundle = Bundle.model_validate_json(exported)
    assert [e.resource.get_resource_type() for e in bundle.entry or []][-1] == "Procedure"

    traced = _ok(["hospital", "trace", "patient", "PSN-0001", "--as", "parker"])
    assert "D000001" in traced and "LOT-77A" in traced and "receive > put away" in traced
    lot = _ok(["hospital", "trace", "lot", "LOT-77A", "--as", "parker"])
    assert "PSN-0001 Maria Muster" in lot and "1 recipients." in lot
    assert "0 recipients." in _ok(["hospital", "trace", "lot", "LOT-NONE", "--as", "parker"])

    # Patient data is for those who may see it; an unknown dose is named.
    make_persona(Role.OPERATOR, username="otto")
    refused = runner.invoke(app, ["hospital", "dose", "show", "D000001", "--as", "otto"])
    assert refused.exit_code == 1 and "view_doses" in refused.output.lower().replace(" ", "_")
    nurse_trace = runner.invoke(app, ["hospital", "trace", "patient", "PSN-0001", "--as", "nora"])
    assert nurse_trace.exit_code == 1
    missing = runner.invoke(app, ["hospital", "dose", "show", "D000099", "--as", "nora"])
    assert missing.exit_code == 1 and "there is no dose D000099" in missing.output
    assert json.loads(exported)["resourceType"] == "Bundle"


def test_the_board_shows_todays_doses_and_the_watcher_flags_missed_windows(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,  # noqa: F811
    order: Callable[..., int],  # noqa: F811
    cryostore: str,  # noqa: F811
) -> None:
    # Thawed on the test clock (January 2026): by the real clock its limit ran out long ago.
    thawed = walk(uow, clock, staff, order, cryostore, "issued")
    # Ordered on the real clock for three hours from now: on today's (or tomorrow's) board.
    clock.current = SystemClock().now()
    upcoming = order(patient_ref="PSN-0002", name="Otto Other", hours=3)

    board = _ok(["hospital", "board", "--as", "nora"])
    assert "PSN-0002 Otto Other" in board
    assert "latest in" in board
    # A dose whose thaw clock runs is on the board whatever its appointment.
    assert "PSN-0001 Maria Muster" in board and "infuse by" in board

    watched = _ok(["hospital", "watch", "--once"])
    assert "Window missed: dose D000001 flagged" in watched and "1 doses flagged." in watched
    assert "0 doses flagged." in _ok(["hospital", "watch", "--once"])
    flags = _ok(["hospital", "trace", "flags", "--as", "parker"])
    assert "Window missed" in flags and "D000001" in flags and "Flags 1-1 of 1." in flags
    with uow.db.read_session() as session:
        first = session.get(Dose, thawed)
        second = session.get(Dose, upcoming)
        assert first is not None and first.status.value == "window_missed"
        assert second is not None and second.status.value == "approved"
    assert manufactured(1).din in _ok(["hospital", "dose", "show", "D000001", "--as", "nora"])


def test_dose_show_lists_each_open_hold_on_the_bag_with_what_it_waits_for_and_who(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,  # noqa: F811
    order: Callable[..., int],  # noqa: F811
    cryostore: str,  # noqa: F811
) -> None:
    # Issue 9 re-test: `dose show` ignored the custody holds on the bag.
    walk(uow, clock, staff, order, cryostore, "held")
    shown = _ok(["hospital", "dose", "show", "D000001", "--as", "nora"])
    # The cell wraps onto the lines below its label: read the output without table borders.
    flat = re.sub(r"[\s│┃]+", "", shown)
    assert "holdsonthebagONHOLDFORQA" in flat
    assert "waitingforQA'sreleaseorrejection" in flat and "placedbyParkerPharm" in flat
