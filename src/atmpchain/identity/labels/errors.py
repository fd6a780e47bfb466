"""The one error type of label layout and rendering."""

from __future__ import annotations


class LabelLayoutError(ValueError):
    """A label cannot be printed legibly: the content does not fit, or cannot be printed at all.

    The message says which label size and which part of the content, in plain words, so the
    person at the printer can choose a larger label or shorten the text. ``size`` is the name
    of the label size when one is involved.
    """

    def __init__(self, message: str, *, size: str | None = None) -> None:
        self.size = size
        super().__init__(message)
