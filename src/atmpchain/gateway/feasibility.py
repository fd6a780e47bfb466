"""Feasibility of an inquiry against the facility's own data: one function per criterion.

Each criterion answers green / amber / red with the evidence it rests on: suite-days from
scheduling's latest saved plan, the cost estimate from translation's cost-of-goods model, LN2
positions from custody, the rest from the facility's configured data (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from atmpchain.custody import queries as custody_queries
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.gateway.domain import (
    CleanroomGrade,
    Criterion,
    Presentation,
    Rating,
    Service,
    capacity_rating,
    ln2_rating,
    overall,
)
from atmpchain.gateway.models import Inquiry
from atmpchain.gateway.rules import FacilityOffer, gateway_rules
from atmpchain.scheduling import queries as scheduling_queries
from atmpchain.scheduling.domain import Plan, Problem, Workstation, days_used
from atmpchain.translation.costing import queries as costing_queries
from atmpchain.translation.costing.domain import compute

MANUFACTURING = frozenset({Service.MANUFACTURE, Service.TECH_TRANSFER})


@dataclass(frozen=True, slots=True)
class Demand:
    """What an inquiry asks of the facility, from its stored answers."""

    services: frozenset[Service]
    product_class: str
    gmo: bool
    platform: str
    presentation: Presentation
    patients: int
    bags_per_patient: int
    process_days: int | None
    cleanroom_grade: CleanroomGrade

    @classmethod
    def of(cls, row: Inquiry) -> Demand:
        return cls(
            services=frozenset(Service(s) for s in row.services.split(",") if s),
            product_class=row.product_class.value,
            gmo=row.gmo,
            platform=row.platform,
            presentation=row.presentation,
            patients=row.patients,
            bags_per_patient=row.bags_per_patient,
            process_days=row.process_days,
            cleanroom_grade=row.cleanroom_grade,
        )

    @property
    def manufactures(self) -> bool:
        """Whether the facility is to make the product (here, or after a transfer)."""
        return bool(self.services & MANUFACTURING)

    @property
    def bags(self) -> int:
        """LN2 positions needed: every bag of every patient, when cryopreserved."""
        if self.presentation is not Presentation.CRYOPRESERVED:
            return 0
        return self.patients * self.bags_per_patient


@dataclass(frozen=True, slots=True)
class Feasibility:
    """Every criterion, and the verdict they add up to."""

    criteria: tuple[Criterion, ...]

    @property
    def rating(self) -> Rating:
        """Red if any criterion is red, else amber if any is amber, else green."""
        return overall(self.criteria)


def _not_needed(key: str, name: str, why: str) -> Criterion:
    return Criterion(key, name, Rating.GREEN, f"not needed: {why}")


def ln2_storage(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """Free LN2 positions (custody's storage units of kind LN2 vapour, in use) for every bag."""
    name = "LN2 storage positions"
    if demand.bags == 0:
        return _not_needed("ln2", name, "the product is not cryopreserved")
    tanks = [
        u
        for u in custody_queries.storage_overview(session)
        if u.kind is StorageKind.LN2_VAPOUR and u.status is StorageStatus.IN_USE
    ]
    free = sum(u.free for u in tanks)
    listed = ", ".join(f"{u.code} {u.free} free of {u.capacity}" for u in tanks) or "none in use"
    rating = ln2_rating(demand.bags, free)
    return Criterion(
        "ln2",
        name,
        rating,
        f"{demand.bags} bags needed ({demand.patients} patients x {demand.bags_per_patient}); "
        f"{free} positions free in LN2 tanks in use ({listed})",
    )


def gmo_containment(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """A GMO product needs a contained-use permit where it is handled."""
    name = "GMO containment"
    if not demand.gmo:
        return _not_needed("gmo", name, "the product is not a GMO")
    if offer.gmo_contained_use:
        return Criterion(
            "gmo", name, Rating.GREEN, f"contained use permitted: {offer.gmo_containment_level}"
        )
    return Criterion("gmo", name, Rating.RED, "the facility holds no contained-use permit")


def authorisation_scope(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """The manufacturing authorisation must cover the product class."""
    name = "Manufacturing authorisation scope"
    if not demand.manufactures:
        return _not_needed("authorisation", name, "no manufacture requested")
    covered = ", ".join(sorted(offer.authorised_product_classes))
    if demand.product_class in offer.authorised_product_classes:
        return Criterion(
            "authorisation", name, Rating.GREEN, f"{demand.product_class} is covered ({covered})"
        )
    return Criterion(
        "authorisation",
        name,
        Rating.RED,
        f"{demand.product_class} is not covered (covered: {covered}): a variation is needed",
    )


def platform_match(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """The sponsor's process platform must be one the facility runs."""
    name = "Platform and equipment"
    if not demand.manufactures:
        return _not_needed("platform", name, "no manufacture requested")
    match = next((p for p in offer.platforms if p.lower() == demand.platform.lower()), None)
    if match:
        return Criterion("platform", name, Rating.GREEN, f"{match} is installed")
    return Criterion(
        "platform",
        name,
        Rating.AMBER,
        f"'{demand.platform}' is not installed (installed: {', '.join(offer.platforms)}): "
        "equipment and qualification would be needed",
    )


def qualified_operators(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """Operators qualified on the platform against the campaign's need."""
    name = "Qualified operators"
    if not demand.manufactures:
        return _not_needed("operators", name, "no manufacture requested")
    have = next(
        (n for p, n in offer.qualified_operators.items() if p.lower() == demand.platform.lower()),
        0,
    )
    rating = capacity_rating(offer.operators_needed, have)
    return Criterion(
        "operators",
        name,
        rating,
        f"{have} operators qualified on '{demand.platform}', {offer.operators_needed} needed",
    )


def qc_capacity(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """QC release runs free per month against one run per patient batch."""
    name = "QC assay capacity"
    wanted = demand.manufactures or Service.QC_TESTING in demand.services
    if not wanted:
        return _not_needed("qc", name, "no manufacture or QC testing requested")
    free = offer.qc_runs_per_month - offer.qc_runs_committed
    rating = capacity_rating(1, free)
    return Criterion(
        "qc",
        name,
        rating if free > 0 else Rating.RED,
        f"{free} of {offer.qc_runs_per_month} QC release runs a month free "
        f"({offer.qc_runs_committed} committed)",
    )


def qp_availability(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """A Qualified Person must certify each batch; one alone is a single point of failure."""
    name = "QP availability"
    if not demand.manufactures:
        return _not_needed("qp", name, "no manufacture requested")
    n = offer.qualified_persons
    if n == 0:
        return Criterion("qp", name, Rating.RED, "no Qualified Person is named")
    rating = Rating.GREEN if n >= 2 else Rating.AMBER
    return Criterion(
        "qp", name, rating, f"{n} Qualified Person{'s' if n != 1 else ''} named (2 give cover)"
    )


def cleanroom_grade(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """The suites must provide the grade the process needs."""
    name = "Cleanroom grade"
    if not demand.manufactures or demand.cleanroom_grade is CleanroomGrade.NONE:
        return _not_needed("grade", name, "no cleanroom process requested")
    if demand.cleanroom_grade.value in offer.cleanroom_grades:
        return Criterion("grade", name, Rating.GREEN, f"{demand.cleanroom_grade.label} available")
    return Criterion("grade", name, Rating.RED, f"{demand.cleanroom_grade.label} not available")


def suite_days(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """Cleanroom suite-days needed against those free in scheduling's latest saved plan.

    A suite-day is a room with production cabinets, open for a day. Free: the plan's rooms times
    its days, less the room-days its steps use and the days every cabinet of a room is closed in
    scheduling's calendars (holidays, maintenance, requalification, closures entered there).
    Scheduling keeps its own room codes: a room closed in the cleanrooms capability counts only
    once it is entered as a closure in scheduling (ADR 0031).
    """
    name = "Cleanroom suite-days"
    if not demand.manufactures:
        return _not_needed("suite_days", name, "no manufacture requested")
    need = demand.patients * (demand.process_days or 0)
    asked = (
        f"{need} suite-days needed ({demand.patients} patients x {demand.process_days or '?'} days)"
    )
    if not demand.process_days:
        return Criterion(
            "suite_days", name, Rating.AMBER, f"{asked}: the process length is not known"
        )
    version = scheduling_queries.latest_plan(session)
    if version is None or version.plan is None:
        return Criterion(
            "suite_days",
            name,
            Rating.AMBER,
            f"{asked}; no schedule is saved yet to count free suite-days from "
            "(atmpchain schedule solve)",
        )
    free, total = free_suite_days(version.problem, version.plan)
    end = version.horizon_start + timedelta(days=version.problem.days - 1)
    return Criterion(
        "suite_days",
        name,
        ln2_rating(need, free),
        f"{asked}; {free} of {total} suite-days free in plan version {version.version} "
        f"({version.horizon_start} to {end})",
    )


def free_suite_days(problem: Problem, plan: Plan) -> tuple[int, int]:
    """(free, total) room-days of the rooms that hold production cabinets, over the horizon."""
    rooms: dict[str, list[Workstation]] = {}
    for station in problem.workstations:
        rooms.setdefault(station.room, []).append(station)
    total = len(rooms) * problem.days
    room_of = {w.code: w.room for w in problem.workstations}
    taken = {
        (room_of[a.workstation], day)
        for a in (*plan.assignments, *problem.reserved)
        if a.workstation in room_of
        for day in days_used(a.start, a.end)
        if 0 <= day < problem.days
    }
    for room, stations in rooms.items():
        closed = [{day for c in w.closures for day in days_used(c.start, c.end)} for w in stations]
        every = set.intersection(*closed) if closed else set()
        taken |= {(room, day) for day in every if 0 <= day < problem.days}
    return max(0, total - len(taken)), total


def apheresis(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """Apheresis and JACIE readiness, when collection is asked of the hospital."""
    name = "Apheresis and JACIE"
    if Service.APHERESIS not in demand.services:
        return _not_needed("apheresis", name, "no apheresis requested")
    if not offer.apheresis_unit:
        return Criterion("apheresis", name, Rating.RED, "no apheresis unit")
    if not offer.jacie_accredited:
        return Criterion("apheresis", name, Rating.AMBER, "apheresis unit, not JACIE-accredited")
    return Criterion("apheresis", name, Rating.GREEN, "apheresis unit, JACIE-accredited")


def cost_estimate(session: Session, demand: Demand, offer: FacilityOffer) -> Criterion:
    """A cost estimate from translation's cost-of-goods model, when manufacture is asked: the
    facility's latest model, its base scenario recomputed at the trial's patients a year."""
    name = "Cost estimate"
    if not demand.manufactures:
        return _not_needed("cost", name, "no manufacture requested")
    model = costing_queries.latest_cost_model(session)
    base = model.scenarios[0] if model and model.scenarios else None
    if model is None or base is None:
        return Criterion(
            "cost",
            name,
            Rating.AMBER,
            "no cost-of-goods model yet: pre-GMP translation builds one from a process definition",
        )
    per_year = max(1, demand.patients)
    cost = compute(replace(base.inputs, batches_per_year=per_year))
    total = cost.per_released_batch * demand.patients
    return Criterion(
        "cost",
        name,
        Rating.GREEN,
        f"about {cost.per_released_batch:,.0f} {cost.currency} per released batch at "
        f"{per_year} batches a year ({demand.patients} patients: {total:,.0f} {cost.currency}), "
        f"from cost model '{model.name}' (scenario '{base.name}'); an estimate to refine with "
        "the sponsor's process",
    )


Check = Callable[[Session, Demand, FacilityOffer], Criterion]

#: Every criterion, in the order the page shows them.
CRITERIA: tuple[Check, ...] = (
    authorisation_scope,
    gmo_containment,
    platform_match,
    cleanroom_grade,
    suite_days,
    qualified_operators,
    qc_capacity,
    qp_availability,
    ln2_storage,
    apheresis,
    cost_estimate,
)


def assess(session: Session, row: Inquiry, offer: FacilityOffer | None = None) -> Feasibility:
    """Every criterion for one inquiry, against the facility's data now."""
    facility = offer or gateway_rules().facility
    demand = Demand.of(row)
    return Feasibility(tuple(check(session, demand, facility) for check in CRITERIA))
