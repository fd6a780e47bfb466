"""The base of every error a person may see.

Each error names the field, the value and the rule broken, in words the person at the screen
understands. The web layer turns them into a page or a 4xx JSON body; nothing here is a stack trace.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `field` names the input concerned, `status` the HTTP status to use."""

    status: int = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """An input field breaks a rule."""

    status = 422


class NotFound(DomainError):
    """The record asked for does not exist."""

    status = 404


class PermissionDenied(DomainError):
    """The acting user's roles do not allow the action."""

    status = 403


class Conflict(DomainError):
    """The record changed or is held by someone else; nothing was written."""

    status = 409


class NotYet(Conflict):
    """A step cannot happen yet: another must come first, and the message names it. Never a
    safety STOP (those are chain-of-identity mismatches); the pages keep what was typed."""

    #: Pages show it as "first ..." in amber, not as a red STOP.
    prerequisite = True
