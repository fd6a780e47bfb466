"""The cost-of-goods section of the technology-transfer package (read by
`translation.package_pdf`): every scenario of every cost model, and the published figures."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.translation.costing import queries
from atmpchain.translation.costing.models import CostModel
from atmpchain.translation.costing.published import published_figures
from atmpchain.translation.package_pdf import PackageSection


def transfer_package_section(session: Session, project_id: int) -> PackageSection | None:
    """One row per scenario (None when the project has no cost model)."""
    ids = session.execute(
        select(CostModel.id).where(CostModel.project_id == project_id).order_by(CostModel.id)
    ).scalars()
    rows: list[tuple[str, ...]] = [
        ("cost model", "scenario", "batches/year", "batch cost", "fixed", "per released batch")
    ]
    for model_id in ids:
        view = queries.cost_model(session, model_id)
        for s in view.scenarios:
            rows.append(
                (
                    view.name,
                    s.name,
                    str(s.cost.batches_per_year),
                    f"{s.cost.batch_cost:,.2f} {s.cost.currency}",
                    f"{s.cost.fixed_cost:,.2f}",
                    f"{s.cost.per_released_batch:,.2f} {s.cost.currency}",
                )
            )
    if len(rows) == 1:
        return None
    published = "; ".join(f"{f.label}: {f.amount:,.0f} {f.currency}" for f in published_figures())
    return PackageSection(
        "Cost of goods",
        (
            "Per batch: materials, QC tests, labour, facility, equipment depreciation and "
            "environmental monitoring; fixed costs shared over the batches per year; the cost per "
            "released batch carries the failed batches.",
            f"Published figures for comparison: {published}.",
        ),
        tuple(rows),
    )
