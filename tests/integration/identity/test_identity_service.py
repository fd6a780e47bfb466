"""Issuing DINs and chains of identity, binding donations, and the chain-of-identity check."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Role
from atmpchain.audit.queries import AuditFilter, search
from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.identity import printing, service
from atmpchain.identity.chain import CheckPoint
from atmpchain.identity.din import Din, DonationIdentification
from atmpchain.identity.labels import LabelKind
from atmpchain.identity.models import IssuedDin
from atmpchain.identity.printing import LabelRequest
from atmpchain.identity.structures import ChainOfIdentityIdentifier
from atmpchain.uow import UnitOfWork


@pytest.fixture
def operator(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.OPERATOR, username="otto")


@pytest.fixture
def nurse(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.NURSE, username="nora")


def _bag(din: Din) -> str:
    """What a scanner types for a bag's DIN barcode, with its Enter."""
    return DonationIdentification(din, "00").encode() + "\r\n"


def _wristband(coi: str) -> str:
    return ChainOfIdentityIdentifier.parse("&/" + coi).encode()


def test_dins_are_issued_in_sequence_per_facility_and_year(
    uow: UnitOfWork, operator: Persona, clock: FixedClock
) -> None:
    first = service.issue_din(uow, actor=operator.actor, purpose="apheresis")
    second = service.issue_din(uow, actor=operator.actor)
    assert (first.fin, first.year, first.sequence) == ("A9999", "26", "000001")
    assert second.sequence == "000002"
    clock.current = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    assert service.issue_din(uow, actor=operator.actor).encode() == "A999927000001"


def test_new_year_follows_the_facilitys_calendar_not_utc(
    uow: UnitOfWork, operator: Persona, clock: FixedClock
) -> None:
    # 23:30 UTC on 31 December is already 1 January in Vienna.
    clock.current = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert service.issue_din(uow, actor=operator.actor).year == "27"


def test_every_din_issue_is_audited(uow: UnitOfWork, operator: Persona, db: Database) -> None:
    din = service.issue_din(uow, actor=operator.actor, purpose="leukapheresis P-0042")
    with db.read_session() as session:
        (entry,) = search(session, AuditFilter(action="identity:din:issued"))
    assert entry.record_id == din.encode()
    assert entry.after and entry.after["check_character"] == din.check_character


def test_nurse_may_not_issue_dins(uow: UnitOfWork, nurse: Persona) -> None:
    with pytest.raises(PermissionDenied):
        service.issue_din(uow, actor=nurse.actor)


def test_concurrent_din_requests_get_unique_gap_free_numbers(
    uow: UnitOfWork, operator: Persona, db: Database
) -> None:
    threads, per_thread = 8, 15
    issued: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work() -> None:
        own = uow.new()
        barrier.wait()
        for _ in range(per_thread):
            din = service.issue_din(own, actor=operator.actor)
            with lock:
                issued.append(din.sequence)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    expected = [f"{n:06d}" for n in range(1, threads * per_thread + 1)]
    assert sorted(issued) == expected
    with db.read_session() as session:
        stored = sorted(session.execute(select(IssuedDin.sequence)).scalars())
    assert stored == list(range(1, threads * per_thread + 1))


@pytest.fixture
def therapy(uow: UnitOfWork, operator: Persona) -> tuple[str, Din]:
    coi = service.create_chain(uow, actor=operator.actor, patient_ref="P-0042", therapy="CAR-T")
    din = service.issue_din(uow, actor=operator.actor)
    service.bind_donation(
        uow, actor=operator.actor, coi_identifier=coi, din_text=din.eye_readable()
    )
    return coi, din


def test_chain_identifier_has_the_structure_040_shape(therapy: tuple[str, Din]) -> None:
    coi, _ = therapy
    assert coi == "CHA999926000001"
    assert ChainOfIdentityIdentifier.parse("&/" + coi).identifier() == coi


def test_bag_and_its_patients_wristband_match(
    uow: UnitOfWork, nurse: Persona, therapy: tuple[str, Din], db: Database
) -> None:
    coi, din = therapy
    verdict = service.check_identity(
        uow,
        actor=nurse.actor,
        checkpoint=CheckPoint.BAG_TO_WRISTBAND,
        first_scan=_bag(din),
        second_scan=_wristband(coi),
    )
    assert verdict.match and verdict.coi == coi
    with db.read_session() as session:
        (entry,) = search(session, AuditFilter(action="identity:check:matched"))
    assert entry.after and entry.after["match"] is True


def test_bag_and_another_patients_wristband_is_a_hard_stop_on_record(
    uow: UnitOfWork, nurse: Persona, operator: Persona, therapy: tuple[str, Din], db: Database
) -> None:
    _, din = therapy
    other = service.create_chain(uow, actor=operator.actor, patient_ref="P-0077", therapy="CAR-T")
    with pytest.raises(service.ChainOfIdentityMismatch) as err:
        service.check_identity(
            uow,
            actor=nurse.actor,
            checkpoint=CheckPoint.BAG_TO_WRISTBAND,
            first_scan=_bag(din),
            second_scan=_wristband(other),
        )
    assert "different patients' therapies" in err.value.message
    with db.read_session() as session:
        (entry,) = search(session, AuditFilter(action="identity:check:mismatch"))
    assert entry.seq == err.value.audit_seq
    assert entry.after and entry.after["first_scan"] == _bag(din).strip()
    assert entry.after["second_scan"] == _wristband(other)


def test_unregistered_din_cannot_be_proved_and_stops(
    uow: UnitOfWork, nurse: Persona, operator: Persona, therapy: tuple[str, Din]
) -> None:
    coi, _ = therapy
    stray = service.issue_din(uow, actor=operator.actor)
    with pytest.raises(service.ChainOfIdentityMismatch, match="not bound to any chain"):
        service.check_identity(
            uow,
            actor=nurse.actor,
            checkpoint=CheckPoint.BAG_TO_WRISTBAND,
            first_scan=_bag(stray),
            second_scan=_wristband(coi),
        )


def test_unreadable_scan_names_the_field_and_rule(
    uow: UnitOfWork, nurse: Persona, therapy: tuple[str, Din]
) -> None:
    coi, _ = therapy
    with pytest.raises(InvalidInput) as err:
        service.check_identity(
            uow,
            actor=nurse.actor,
            checkpoint=CheckPoint.BAG_TO_WRISTBAND,
            first_scan="=A99992600000X00",
            second_scan=_wristband(coi),
        )
    assert err.value.field == "first_scan"
    assert "position" in err.value.message


def test_a_din_belongs_to_one_chain_only(
    uow: UnitOfWork, operator: Persona, therapy: tuple[str, Din]
) -> None:
    _, din = therapy
    other = service.create_chain(uow, actor=operator.actor, patient_ref="P-0077", therapy="CAR-T")
    with pytest.raises(Conflict, match="already belongs"):
        service.bind_donation(uow, actor=operator.actor, coi_identifier=other, din_text=_bag(din))


def test_typed_din_needs_its_check_character(
    uow: UnitOfWork, operator: Persona, therapy: tuple[str, Din]
) -> None:
    coi, _ = therapy
    din = service.issue_din(uow, actor=operator.actor)
    wrong = "A" if din.check_character != "A" else "B"
    with pytest.raises(InvalidInput) as err:
        service.bind_donation(
            uow, actor=operator.actor, coi_identifier=coi, din_text=din.encode() + wrong
        )
    assert err.value.field == "din"


def test_second_print_of_a_label_is_a_reprint_needing_a_reason(
    uow: UnitOfWork, operator: Persona, therapy: tuple[str, Din], db: Database
) -> None:
    coi, din = therapy
    request = LabelRequest(
        kind=LabelKind.BAG, din=din.eye_readable(), product_description="CAR-T cells"
    )
    first = printing.print_label(uow, actor=operator.actor, request=request)
    assert not first.reprint
    assert first.pdf.startswith(b"%PDF")
    with pytest.raises(InvalidInput) as err:
        printing.print_label(uow, actor=operator.actor, request=request)
    assert err.value.field == "reason"
    again = printing.print_label(
        uow, actor=operator.actor, request=request, reason="first label smudged"
    )
    assert again.reprint and again.filename.endswith("-reprint.pdf")
    with db.read_session() as session:
        (printed,) = search(session, AuditFilter(action="identity:label:printed"))
        (reprinted,) = search(session, AuditFilter(action="identity:label:reprinted"))
    assert reprinted.reason == "first label smudged"
    # The bag label took its chain of identity from the DIN's registration.
    assert printed.after and printed.after["chain_of_identity"] == coi


def test_label_cannot_join_a_donation_to_another_chain(
    uow: UnitOfWork, operator: Persona, therapy: tuple[str, Din]
) -> None:
    _, din = therapy
    other = service.create_chain(uow, actor=operator.actor, patient_ref="P-0077", therapy="CAR-T")
    request = LabelRequest(kind=LabelKind.BAG, din=din.eye_readable(), chain_of_identity=other)
    with pytest.raises(InvalidInput) as err:
        printing.print_label(uow, actor=operator.actor, request=request)
    assert err.value.field == "chain_of_identity"


def test_wristband_label_for_a_chain_of_identity(
    uow: UnitOfWork, operator: Persona, therapy: tuple[str, Din]
) -> None:
    coi, _ = therapy
    request = LabelRequest(
        kind=LabelKind.WRISTBAND,
        chain_of_identity=coi,
        patient_name="Anna Example",
        patient_id="P-0042",
    )
    printed = printing.print_label(uow, actor=operator.actor, request=request)
    assert printed.filename == f"wristband-{coi}.pdf"


@pytest.mark.parametrize("patient_first", [True, False], ids=["own-din-first", "other-din-first"])
def test_a_compound_message_with_two_dins_is_refused_and_nothing_is_recorded_as_a_match(
    uow: UnitOfWork,
    nurse: Persona,
    operator: Persona,
    therapy: tuple[str, Din],
    trail: Trail,
    patient_first: bool,
) -> None:
    # Issue 9 item 1: one Data Matrix carrying this patient's DIN and another patient's DIN
    # was read as whichever came first, so the bedside check said MATCH or STOP by order.
    coi, din = therapy
    other_coi = service.create_chain(
        uow, actor=operator.actor, patient_ref="P-0077", therapy="CAR-T"
    )
    other = service.issue_din(uow, actor=operator.actor)
    service.bind_donation(
        uow, actor=operator.actor, coi_identifier=other_coi, din_text=other.eye_readable()
    )
    bags = [_bag(din).strip(), _bag(other).strip()]
    if not patient_first:
        bags.reverse()
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        service.check_identity(
            uow,
            actor=nurse.actor,
            checkpoint=CheckPoint.BAG_TO_WRISTBAND,
            first_scan="=+02000" + "".join(bags),
            second_scan=_wristband(coi),
        )
    assert err.value.field == "first_scan"
    assert "two different DINs" in err.value.message
    assert trail.state() == before
    assert trail.records("identity:check:matched") == []
