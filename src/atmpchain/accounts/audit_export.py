"""Who may export the audit trail: the permission check above the trust core.

The audit package writes and exports the trail but knows nothing of people and roles (STYLE: the
audit trail sits below people); this service decides whether the acting user may export it.
"""

from __future__ import annotations

from typing import IO

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.export import ExportFormat, export_trail
from atmpchain.audit.queries import AuditFilter
from atmpchain.uow import UnitOfWork


def export_audit_trail(
    uow: UnitOfWork, *, actor: Actor, out: IO[str], fmt: ExportFormat, flt: AuditFilter
) -> int:
    """Export the matching records if the actor holds the export permission; returns the count.

    The system actor (installation, scheduled jobs) has no roles and is not refused.
    """
    if actor.user_id is not None:
        actor.require(Permission.EXPORT_AUDIT_TRAIL)
    return export_trail(uow, actor=actor, out=out, fmt=fmt, flt=flt)
