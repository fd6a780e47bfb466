"""The technology-transfer package as a PDF: the process description, the materials list, the
gap and readiness status, the FMEA, the design-of-experiments report and the cost model.

The DoE and cost-model sections belong to the sub-capabilities `translation.doe` and
`translation.costing`. Each may offer a module `report` with a function
`transfer_package_section(session, project_id) -> PackageSection | None`; where the module or
its section is absent, the package says so ("no DoE study yet") rather than leaving a hole.
Printing changes no record and is not audited.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import SimpleDocTemplate, Spacer  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

# The batch record's PDF styles and table: one look for every GMP document atmpchain prints.
from atmpchain.manufacturing.ebr_pdf import _Clock, _p, _Styles, _table
from atmpchain.translation import assessment_queries, queries
from atmpchain.translation.errors import DefinitionNotFound, RecordNotFound
from atmpchain.translation.mbr_draft import gmp_grades
from atmpchain.translation.transfer import transfers

_MARGIN = 15 * mm


@dataclass(frozen=True, slots=True)
class PackageSection:
    """A section another capability contributes: a title, paragraphs and an optional table
    (its first row is the header)."""

    title: str
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()


#: The sub-capabilities' sections: module, title, and what the package says when there is none.
CONTRIBUTED = (
    ("atmpchain.translation.doe.report", "Design of experiments", "No DoE study yet."),
    ("atmpchain.translation.costing.report", "Cost of goods", "No cost model yet."),
)


def contributed_section(
    session: Session, project_id: int, module_name: str, title: str, empty: str
) -> PackageSection:
    """The section a sub-capability offers, or one that says there is none yet."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the report module (or its package) missing means "none yet"; a missing
        # dependency inside it is a fault and is raised.
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        return PackageSection(title, (empty,))
    source = getattr(module, "transfer_package_section", None)
    if source is None:
        return PackageSection(title, (empty,))
    section = cast(Callable[[Session, int], PackageSection | None], source)(session, project_id)
    return section if section is not None else PackageSection(title, (empty,))


def _section(story: list[Any], section: PackageSection, s: _Styles, width: float) -> None:
    story.append(_p(section.title, s.heading))
    story += [_p(text, s.body) for text in section.paragraphs]
    if section.table:
        columns = len(section.table[0])
        story.append(_table(section.table, [width / columns] * columns, s))


def _process(story: list[Any], session: Session, project_id: int, s: _Styles, width: float) -> None:
    story.append(_p("Process description", s.heading))
    try:
        view = queries.process_definition(session, project_id)
    except DefinitionNotFound:
        story.append(_p("No process definition yet.", s.body))
        return
    story.append(
        _p(
            f"Process definition version {view.version} ({view.status.value}"
            f"{', approved by ' + view.approved_by if view.approved_by else ''}): {view.reason}",
            s.body,
        )
    )
    for i, op in enumerate(view.unit_operations, start=1):
        story.append(
            _p(
                f"{i}. {op.title} — {'closed' if op.closed else 'OPEN'}, {op.duration_minutes} "
                f"min ({op.hands_on_minutes} min hands-on). {op.description}",
                s.body,
            )
        )
        if op.parameters:
            rows: list[Sequence[object]] = [
                ["parameter", "kind", "target", "range", "critical", "CQAs"]
            ]
            rows += [
                [
                    f"{p.name} ({p.unit})" if p.unit else p.name,
                    p.kind.value,
                    "-" if p.target is None else p.target,
                    f"{p.low} to {p.high}" if p.has_range else "no range",
                    "yes" if p.critical else "no",
                    ", ".join(p.cqas),
                ]
                for p in op.parameters
            ]
            story.append(_table(rows, [width / 6] * 6, s))
    story.append(_p("Materials", s.heading))
    rows = [["unit operation", "item", "material", "grade now", "supplier", "GMP grades"]]
    for op in view.unit_operations:
        for m in op.materials:
            grades = gmp_grades(m)
            rows.append(
                [
                    op.key,
                    m.item,
                    m.name,
                    m.grade.label,
                    m.supplier or "-",
                    ", ".join(grades) if grades else "none known",
                ]
            )
    story.append(_table(rows, [width / 6] * 6, s))


def _assessments(
    story: list[Any], session: Session, project_id: int, s: _Styles, width: float, when: _Clock
) -> None:
    story.append(_p("Gaps", s.heading))
    gaps = assessment_queries.gaps(session, project_id)
    if gaps:
        open_count = sum(1 for g in gaps if g.status.value != "closed")
        story.append(_p(f"{open_count} of {len(gaps)} gaps open.", s.body))
        rows: list[Sequence[object]] = [["category", "subject", "status", "owner", "evidence"]]
        rows += [
            [g.category.label, g.subject, g.status.value, g.owner or "-", g.evidence or "-"]
            for g in gaps
        ]
        story.append(_table(rows, [width / 5] * 5, s))
    else:
        story.append(_p("No gap listed yet.", s.body))
    story.append(_p("Readiness", s.heading))
    history = assessment_queries.readiness_history(session, project_id)
    if history:
        rows = [["assessed", "by", "total", *[c.label for c in history[-1].scores]]]
        rows += [
            [when(a.assessed_at), a.assessed_by, a.total, *[c.score for c in a.scores]]
            for a in history
        ]
        columns = len(rows[0])
        story.append(_table(rows, [width / columns] * columns, s))
    else:
        story.append(_p("No readiness assessment yet.", s.body))
    story.append(_p("FMEA", s.heading))
    try:
        fmea = assessment_queries.fmea(session, project_id)
    except RecordNotFound:
        story.append(_p("No FMEA yet.", s.body))
        return
    story.append(
        _p(
            f"FMEA version {fmea.version} ({fmea.status.value}"
            f"{', approved by ' + fmea.approved_by if fmea.approved_by else ''}) for process "
            f"definition version {fmea.definition_version}; action threshold RPN > "
            f"{fmea.threshold}.",
            s.body,
        )
    )
    rows = [["unit operation", "failure mode", "S/O/D", "RPN", "mitigation (owner)", "residual"]]
    rows += [
        [
            m.unit_operation,
            m.failure_mode,
            f"{m.severity}/{m.occurrence}/{m.detection}",
            m.rpn if m.rpn is not None else "not scored",
            f"{m.mitigation} ({m.mitigation_owner})" if m.mitigation else "-",
            m.residual_rpn if m.residual_rpn is not None else "-",
        ]
        for m in fmea.modes
    ]
    story.append(_table(rows, [width / 6] * 6, s))


def transfer_package_pdf(
    session: Session, project_id: int, printed_by: str, printed_at: datetime, zone: str
) -> bytes:
    """The project's technology-transfer package as an A4 PDF."""
    project = queries.project(session, project_id)
    when = _Clock(zone)
    s = _Styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 8 * mm,
        title=f"Technology-transfer package {project.code}",
        author="atmpchain",
        creator="atmpchain",
        invariant=1,
    )
    footer = (
        f"Technology-transfer package {project.code}. Printed by {printed_by} at "
        f"{when(printed_at)}."
    )

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(s.regular, 7.5)
        canvas.drawString(_MARGIN, 10 * mm, f"{footer}  Page {doc.page}")
        canvas.restoreState()

    width = document.width
    head = [
        ["Project", f"{project.code}: {project.title}"],
        ["Research group", project.research_group],
        ["Target indication", project.indication],
        ["Product class", project.product_class],
        ["Stage", project.stage.label],
        ["Team", "; ".join(f"{m.full_name} ({m.project_role})" for m in project.team) or "-"],
        [
            "Handed to manufacturing",
            "; ".join(
                f"MBR {t.mbr_code} version {t.mbr_version} from definition version "
                f"{t.definition_version}, {when(t.transferred_at)}"
                for t in transfers(session, project_id)
            )
            or "not yet",
        ],
    ]
    story: list[Any] = [
        _p(f"Technology-transfer package {project.code}", s.title),
        Spacer(1, 4 * mm),
        _table([["Field", "Value"], *head], [45 * mm, width - 45 * mm], s),
    ]
    _process(story, session, project_id, s, width)
    _assessments(story, session, project_id, s, width, when)
    for module_name, title, empty in CONTRIBUTED:
        _section(
            story, contributed_section(session, project_id, module_name, title, empty), s, width
        )
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
