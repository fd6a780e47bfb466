"""What QA's access approval signs: shared by the service that signs and the queries that check."""

from __future__ import annotations

from typing import Any

from atmpchain.accounts.models import User

#: The record type of an access approval's signature.
ACCESS_RECORD = "user_access"


def access_content(user: User) -> dict[str, Any]:
    """What an access approval signs: who the user is, which roles, and whether active."""
    return {
        "user_id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "roles": sorted(r.value for r in user.role_set),
        "is_active": user.is_active,
    }
