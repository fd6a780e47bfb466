"""Label stock sizes: a catalogue held as data, so a site adds or changes sizes by configuration.

The sizes below are common stock for each kind of container (the 100 x 100 mm, 4 x 4 in, base
label is the usual ISBT 128 bag label); none is a constant of the layout. A facility whose
printer carries other stock loads its own sizes with :func:`label_sizes_from_config` and passes
them to the renderer; the layout then either fits the content legibly or refuses with a plain
message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from atmpchain.identity.labels.errors import LabelLayoutError

MM_PER_INCH = 25.4


@dataclass(frozen=True, slots=True)
class LabelSize:
    """One label stock size in millimetres (width is the longer side as printed)."""

    name: str
    width_mm: float
    height_mm: float
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise LabelLayoutError("a label size needs a name")
        for side, value in (("width", self.width_mm), ("height", self.height_mm)):
            if not 5 <= value <= 500:
                raise LabelLayoutError(
                    f"label size {self.name!r}: {side} {value} mm is not a label size "
                    "(5 to 500 mm)",
                    size=self.name,
                )

    @classmethod
    def from_inches(
        cls, name: str, width: float, height: float, description: str = ""
    ) -> LabelSize:
        """Build a size given in inches, as label stock is often sold."""
        return cls(name, width * MM_PER_INCH, height * MM_PER_INCH, description)

    def describe(self) -> str:
        """Return 'name (100 x 50 mm)' for messages."""
        return f"{self.name!r} ({self.width_mm:g} x {self.height_mm:g} mm)"


_DEFAULT_SIZES = (
    LabelSize(
        "bag-100x100",
        100,
        100,
        "base label for bags of blood, cells and tissues, 4 x 4 in",
    ),
    LabelSize(
        "cassette-100x50",
        100,
        50,
        "cryobag cassette or canister label, 4 x 2 in",
    ),
    LabelSize("vial-50x25", 50, 25, "cryovial or vial label, 2 x 1 in"),
    LabelSize("sample-tube-50x20", 50, 20, "sample or cryo tube wrap-around label"),
    LabelSize("wristband-250x25", 250, 25, "patient wristband insert, 10 x 1 in"),
)

# The default catalogue. Do not mutate it: build a new mapping with label_sizes_from_config.
LABEL_SIZES: Mapping[str, LabelSize] = MappingProxyType(
    {size.name: size for size in _DEFAULT_SIZES}
)


def label_size(name: str, sizes: Mapping[str, LabelSize] = LABEL_SIZES) -> LabelSize:
    """Return the size called ``name`` from a catalogue, or refuse with the names it has."""
    try:
        return sizes[name]
    except KeyError:
        known = ", ".join(sorted(sizes))
        raise LabelLayoutError(
            f"label size {name!r} is not in the catalogue (known sizes: {known})", size=name
        ) from None


def label_sizes_from_config(
    config: Mapping[str, Mapping[str, Any]],
    base: Mapping[str, LabelSize] = LABEL_SIZES,
) -> Mapping[str, LabelSize]:
    """Return ``base`` extended (or overridden) by sizes read from configuration.

    ``config`` maps a size name to ``{"width_mm": .., "height_mm": .., "description": ..}``,
    for example a ``[labels.sizes.vial-38x19]`` table of a TOML file.
    """
    sizes = dict(base)
    for name, entry in config.items():
        try:
            width = float(entry["width_mm"])
            height = float(entry["height_mm"])
        except (KeyError, TypeError, ValueError):
            raise LabelLayoutError(
                f"label size {name!r} in the configuration needs numeric width_mm and height_mm",
                size=name,
            ) from None
        sizes[name] = LabelSize(name, width, height, str(entry.get("description", "")))
    return MappingProxyType(sizes)
