"""Fixed confirmation messages shown after a redirect (never text taken from the URL)."""

NOTICES = {
    "password-changed": "Your password was changed.",
    "user-created": "The user was created. Their access now needs approval by QA.",
    "user-changed": "The change was saved and recorded in the audit trail.",
    "access-approved": "Access approved and signed.",
    "token-revoked": "The API token was revoked.",
    "facility-changed": "The facility's details were changed and recorded in the audit trail.",
    "impact-assessed": "Impact assessment signed and recorded in the audit trail.",
}


def notice(key: str | None) -> str | None:
    """The message for a notice key, or None."""
    return NOTICES.get(key or "")
