# ruff: noqa: F811 - the translation fixtures are imported to be used by name
"""Feasibility against the facility's own data, from constructed data: LN2 positions counted
from custody's tanks in use, authorisation scope from the configured facility data, and the
criteria not connected yet shown amber with their reason."""

from __future__ import annotations

from dataclasses import replace

from tests.gateway_data import inquiry_fields, ln2_tank
from tests.integration.translation.conftest import (  # noqa: F401 - fixtures used by name
    Lab,
    defined,
    lab,
    project_id,
)
from tests.unit.translation.costing.test_cost_model import CASE

from atmpchain.accounts.domain import Role
from atmpchain.gateway import inquiries
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway.domain import Rating, parse_inquiry
from atmpchain.gateway.feasibility import assess
from atmpchain.gateway.models import Inquiry
from atmpchain.gateway.rules import gateway_rules
from atmpchain.moments import parse_day
from atmpchain.translation.costing import service as costing_service
from atmpchain.translation.costing.domain import compute, inputs_from_dict
from atmpchain.uow import UnitOfWork


def _submit(uow: UnitOfWork, services: list[str], **fields: str) -> str:
    form = parse_inquiry(inquiry_fields(**fields), services, parse_date=parse_day)
    return inquiries.submit_inquiry(
        uow, actor=inquiries.PUBLIC_ACTOR, form=form, attachments={}
    ).reference


def _criteria(uow: UnitOfWork, reference: str) -> dict[str, Rating]:
    with uow.db.read_session() as session:
        return {
            c.key: c.rating for c in gateway_queries.feasibility_of(session, reference).criteria
        }


def test_ln2_turns_red_when_the_tanks_have_too_few_free_positions(
    uow: UnitOfWork, make_persona
) -> None:
    qa = make_persona(Role.QA, username="qa-ln2")
    ln2_tank(uow, qa.actor, code="TANK-1", slots=20)
    # 12 patients x 2 bags = 24 positions needed, 20 free.
    short = _submit(uow, ["storage"], patients="12", bags_per_patient="2")
    assert _criteria(uow, short)["ln2"] is Rating.RED
    # 9 patients x 2 bags = 18: fits, but with less than the 20 % margin.
    tight = _submit(uow, ["storage"], patients="9", bags_per_patient="2")
    assert _criteria(uow, tight)["ln2"] is Rating.AMBER
    roomy = _submit(uow, ["storage"], patients="4", bags_per_patient="2")
    ratings = _criteria(uow, roomy)
    assert ratings["ln2"] is Rating.GREEN
    # Storage only: the manufacturing criteria are not needed.
    assert ratings["suite_days"] is Rating.GREEN and ratings["authorisation"] is Rating.GREEN
    with uow.db.read_session() as session:
        evidence = gateway_queries.feasibility_of(session, short).criteria
    ln2 = next(c for c in evidence if c.key == "ln2")
    assert "24 bags needed" in ln2.evidence and "TANK-1 20 free of 20" in ln2.evidence


def test_a_fresh_product_needs_no_ln2(uow: UnitOfWork) -> None:
    fresh = _submit(uow, ["preparation"], presentation="fresh", bags_per_patient="")
    assert _criteria(uow, fresh)["ln2"] is Rating.GREEN


def test_authorisation_scope_and_unconnected_criteria(uow: UnitOfWork) -> None:
    reference = _submit(uow, ["manufacture"], product_class="tissue_engineered")
    ratings = _criteria(uow, reference)
    assert ratings["authorisation"] is Rating.RED
    assert ratings["suite_days"] is Rating.AMBER and ratings["cost"] is Rating.AMBER
    with uow.db.read_session() as session:
        row = session.query(Inquiry).filter_by(reference=reference).one()
        facility = gateway_rules().facility
        wider = replace(
            facility,
            authorised_product_classes=facility.authorised_product_classes | {"tissue_engineered"},
            qualified_persons=0,
        )
        checked = {c.key: c for c in assess(session, row, wider).criteria}
    assert checked["authorisation"].rating is Rating.GREEN
    assert checked["qp"].rating is Rating.RED
    # No schedule saved and no cost model yet: amber, saying what is missing.
    assert "no schedule is saved yet" in checked["suite_days"].evidence
    assert "no cost-of-goods model yet" in checked["cost"].evidence


def test_the_cost_estimate_comes_from_the_latest_cost_model_at_the_trials_patients_a_year(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    costing_service.create_model(
        uow, actor=lab.scientist.actor, project_id=defined, name="Hand case", inputs=CASE
    )
    reference = _submit(uow, ["manufacture"], patients="12")
    with uow.db.read_session() as session:
        (cost,) = [
            c
            for c in gateway_queries.feasibility_of(session, reference).criteria
            if c.key == "cost"
        ]
    expected = compute(replace(inputs_from_dict(CASE), batches_per_year=12))
    assert cost.rating is Rating.GREEN
    assert f"{expected.per_released_batch:,.0f} {expected.currency} per released batch" in (
        cost.evidence
    )
    assert "at 12 batches a year" in cost.evidence and "'Hand case'" in cost.evidence
