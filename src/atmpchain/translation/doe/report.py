"""The design-of-experiments section of the technology-transfer package (read by
`translation.package_pdf`): every experiment of the project, its fit and its proven ranges."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.translation.doe import queries
from atmpchain.translation.doe.models import DoeStudy
from atmpchain.translation.package_pdf import PackageSection


def transfer_package_section(session: Session, project_id: int) -> PackageSection | None:
    """One row per experiment (None when the project has none)."""
    ids = session.execute(
        select(DoeStudy.id).where(DoeStudy.project_id == project_id).order_by(DoeStudy.id)
    ).scalars()
    rows: list[tuple[str, ...]] = [
        ("experiment", "design", "runs (measured)", "model fit", "optimum and proven ranges")
    ]
    for study_id in ids:
        view = queries.study(session, study_id)
        analysis = queries.analyse(view)
        fits = "; ".join(
            f"{r.response}: R² {r.fit.r2:.2f} (adj. {r.fit.adj_r2:.2f})"
            if r.fit
            else f"{r.response}: {r.problem}"
            for r in analysis.responses
        )
        best = analysis.optimum
        proven = (
            "; ".join(
                f"{p.factor} {p.low:.4g} to {p.high:.4g} {p.unit}".strip() for p in best.proven
            )
            if best and best.proven
            else "none proven"
        )
        rows.append(
            (
                view.title,
                f"{view.kind.label}, seed {view.seed}, {len(view.donors)} donor(s)",
                f"{len(view.runs)} ({view.measured})",
                f"{analysis.order.label}: {fits}",
                proven,
            )
        )
    if len(rows) == 1:
        return None
    return PackageSection(
        "Design of experiments",
        (
            "Models in coded units by ordinary least squares; a proven range is the stretch of "
            "one factor, the others at the optimum, over which every response stays within its "
            "limits (a candidate design space, ICH Q8(R2)).",
        ),
        tuple(rows),
    )
