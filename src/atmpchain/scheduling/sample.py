"""A realistic academic CAR-T facility and its demand, for the benchmark, the demo and tests.

Figures from the domain facts (docs/adr/0031): an academic clean area of suites with one
biosafety cabinet each and one suite with three; closed-device expansion with harvest on day
10-12 and an in-process control on day 5; sterility 7 days, mycoplasma and VCN; vein-to-vein about
three weeks. Facility-defined values (changeover, longest grade B session) are Rules defaults,
marked U in the facts: the facility's own data, not the literature's.
"""

from __future__ import annotations

import random

from atmpchain.scheduling.domain import (
    DAY,
    HOUR,
    Assay,
    Batch,
    Closure,
    Device,
    Grade,
    Link,
    Material,
    Person,
    Problem,
    QcLab,
    Qualification,
    Rules,
    SegregationRule,
    Shift,
    Step,
    Template,
    Workstation,
)

GOWNING = "grade B gowning"
MEDIA_FILL = "media fill"
CART = "CAR-T process"
VST = "VST process"
QP = "qualified person"
WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def cart_template(code: str = "CAR-T", expansion_days: int = 10) -> Template:
    """Autologous CAR-T: selection and transduction in a cabinet, expansion in a closed device,
    harvest and formulation in a cabinet, controlled-rate freezing, QC, QP release."""
    open_quals = (GOWNING, MEDIA_FILL, CART)
    return Template(
        code=code,
        steps=(
            Step("select", "selection and activation", 3 * HOUR, 3 * HOUR, 2, open_quals, Grade.B),
            Step(
                "expand",
                "expansion in the closed device",
                expansion_days * DAY,
                30,
                1,
                (CART,),
                device_kind="closed device",
            ),
            Step("ipc", "in-process control (day 5)", 30, 30, 1, (CART,)),
            Step(
                "harvest",
                "harvest and formulation",
                4 * HOUR,
                3 * HOUR + 30,
                2,
                open_quals,
                Grade.B,
            ),
            Step(
                "freeze",
                "controlled-rate freezing",
                3 * HOUR,
                30,
                1,
                (CART,),
                device_kind="controlled-rate freezer",
            ),
        ),
        links=(
            Link("select", "expand", 0, 2 * HOUR),
            Link("expand", "ipc", 5 * DAY - 8 * HOUR, 5 * DAY + 8 * HOUR, from_start=True),
            Link("expand", "harvest", 0, 4 * HOUR),
            Link("harvest", "freeze", 0, HOUR),
        ),
        assays=(
            Assay("sterility", "micro", "harvest", 7 * DAY),
            Assay("mycoplasma", "molbio", "harvest", DAY),
            Assay("vcn", "molbio", "harvest", 3 * DAY),
        ),
        release=Step("release", "QP certification", HOUR, HOUR, 1, (QP,)),
        transport=DAY,
        ld_to_infusion=(3 * DAY, 5 * DAY),
        fresh_hold=DAY,
        cryo_hold=60 * DAY,
        cryo_min_lag=DAY,
        product_class="GMO",
    )


def vst_template() -> Template:
    """Virus-specific T cells (not genetically modified): a shorter process in the same suites."""
    base = cart_template("VST", expansion_days=8)
    quals = (GOWNING, MEDIA_FILL, VST)
    steps = tuple(
        Step(
            s.code,
            s.name,
            s.duration,
            s.hands_on,
            s.operators,
            tuple(VST if q == CART else q for q in s.qualifications),
            s.grade,
            s.device_kind,
        )
        for s in base.steps
    )
    del quals
    return Template(
        "VST",
        steps,
        base.links,
        base.assays[:2],
        base.release,
        base.transport,
        base.ld_to_infusion,
        base.fresh_hold,
        base.cryo_hold,
        base.cryo_min_lag,
        "non-GMO",
    )


def facility(
    days: int,
    *,
    suites: int = 6,
    devices: int = 18,
    operators: int = 14,
    seed: int = 1,
) -> tuple[
    tuple[Workstation, ...], tuple[Device, ...], tuple[QcLab, ...], tuple[Person, ...], Rules
]:
    """Suites (one with three cabinets), devices, QC labs, staff and rules with a realistic
    calendar: public holidays, device maintenance, a suite's requalification, leave, and a media
    fill that lapses for one operator mid-horizon."""
    rng = random.Random(seed)
    holidays = tuple(d for d in range(days) if d % 30 == 17)
    stations: list[Workstation] = []
    for i in range(suites):
        room = f"S{i + 1}"
        closures: tuple[Closure, ...] = ()
        if i == 1:
            start = (12 + 30 * rng.randrange(max(1, days // 30))) * DAY
            closures = (Closure(start, start + 2 * DAY, "requalification"),)
        for k in range(3 if i == 0 else 1):
            stations.append(Workstation(f"{room}-BSC{k + 1}", room, Grade.B, closures))
    devs: list[Device] = []
    for i in range(devices):
        closures = ()
        if i % 5 == 2:
            start = rng.randrange(days) * DAY
            closures = (Closure(start, start + 3 * DAY, "preventive maintenance"),)
        devs.append(Device(f"CD{i + 1:02d}", "closed device", 1, closures))
    devs += [Device(f"CRF{i + 1}", "controlled-rate freezer") for i in range(2)]
    labs = (QcLab("micro", 4), QcLab("molbio", 6))
    people: list[Person] = []
    for i in range(operators):
        weekend = i % 4 == 0
        shifts = (Shift(WEEKDAYS, 7 * HOUR, 19 * HOUR),) + (
            (Shift((5, 6), 8 * HOUR, 16 * HOUR),) if weekend else ()
        )
        process = CART if i % 3 else VST
        quals = [
            Qualification(GOWNING, 0, days),
            Qualification(MEDIA_FILL, 0, days if i != 3 else days // 2),
            Qualification(process, 0, days),
            Qualification(CART, 0, days),
        ]
        absences: tuple[Closure, ...] = ()
        if i % 6 == 5:
            start = rng.randrange(max(1, days - 7)) * DAY
            absences = (Closure(start, start + 5 * DAY, "annual leave"),)
        people.append(Person(f"OP{i + 1:02d}", f"Operator {i + 1}", shifts, tuple(quals), absences))
    for i in range(2):
        people.append(
            Person(
                f"QP{i + 1}",
                f"Qualified person {i + 1}",
                (Shift(EVERY_DAY if i == 0 else WEEKDAYS, 8 * HOUR, 17 * HOUR),),
                (Qualification(QP, 0, days),),
            )
        )
    rules = Rules(holidays=holidays, segregation=(SegregationRule("GMO", "non-GMO", 0),))
    return tuple(stations), tuple(devs), labs, tuple(people), rules


def demand(batches: int, apheresis_days: int, *, seed: int = 1) -> tuple[Batch, ...]:
    """Patients with apheresis on working days of the first `apheresis_days`, mostly
    cryopreserved, infusion wanted 17-25 days after apheresis; one in five urgent."""
    rng = random.Random(seed)
    out: list[Batch] = []
    working = [d for d in range(apheresis_days) if d % 7 < 5]
    for i in range(batches):
        day = working[(i * len(working)) // batches]
        aph = day * DAY + 9 * HOUR
        cryo = rng.random() < 0.7
        template = "VST" if i % 8 == 7 else "CAR-T"
        earliest = aph + 14 * DAY
        latest = aph + rng.choice((23, 25, 27, 30)) * DAY
        out.append(
            Batch(
                code=f"B{i + 1:03d}",
                patient=f"P{i + 1:03d}",
                template=template,
                # A fresh product's apheresis can move by two days to meet a free suite.
                apheresis=(aph, aph) if cryo else (aph, aph + 2 * DAY),
                infusion=(earliest, latest),
                material=Material.CRYOPRESERVED if cryo else Material.FRESH,
                priority=3 if rng.random() < 0.2 else 1,
            )
        )
    return tuple(out)


def month_problem(months: int = 1, *, batches_per_month: int = 40, seed: int = 1) -> Problem:
    """`months` of demand at 40 batches a month on the six-suite facility; the horizon runs
    four weeks past the last apheresis so that every batch can finish."""
    days = 30 * months + 28
    stations, devs, labs, people, rules = facility(days, seed=seed)
    return Problem(
        days=days,
        workstations=stations,
        devices=devs,
        labs=labs,
        people=people,
        templates=(cart_template(), vst_template()),
        batches=demand(batches_per_month * months, 30 * months, seed=seed),
        rules=rules,
    )
