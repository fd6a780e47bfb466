"""Experimental designs in coded units (-1 .. +1): generated, checked and laid out as runs.

Pure: numpy and pyDOE3 only. Full and fractional factorials, Plackett-Burman, central composite
and Box-Behnken come from pyDOE3. pyDOE3 has no definitive screening design, so it is built here
from its published construction (Jones & Nachtsheim 2011, J Qual Technol 43:1; Xiao, Lin & Bai
2012): a conference matrix C of order m, stacked as C, -C and a centre run (2m + 1 runs). The
conference matrices come from Paley's construction over the integers modulo a prime q (order
q + 1), plus the order-2 matrix; an odd number of factors uses the next order and drops columns,
as the published tables do (2k + 3 runs), and columns of a conference matrix stay mutually
orthogonal when some are dropped.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence

import numpy as np
import pyDOE3  # type: ignore[import-untyped]
from numpy.typing import NDArray

from atmpchain.errors import InvalidInput

Matrix = NDArray[np.float64]

#: Beyond this many factors a design stops being a pre-GMP experiment and becomes a typo.
MAX_FACTORS = 16
#: A design with more runs than this is refused (a full factorial grows as 2^k).
MAX_RUNS = 512


class DesignKind(enum.Enum):
    """The families of design the facility uses, from screening to response surface."""

    FULL_FACTORIAL = "full_factorial"
    FRACTIONAL_FACTORIAL = "fractional_factorial"
    PLACKETT_BURMAN = "plackett_burman"
    CENTRAL_COMPOSITE = "central_composite"
    BOX_BEHNKEN = "box_behnken"
    DEFINITIVE_SCREENING = "definitive_screening"

    @property
    def label(self) -> str:
        """The family's name as people say it."""
        return _LABELS[self]

    @property
    def screening(self) -> bool:
        """Designs for finding the few factors that matter (main effects first)."""
        return self in {
            DesignKind.FRACTIONAL_FACTORIAL,
            DesignKind.PLACKETT_BURMAN,
            DesignKind.DEFINITIVE_SCREENING,
        }


_LABELS = {
    DesignKind.FULL_FACTORIAL: "Full factorial",
    DesignKind.FRACTIONAL_FACTORIAL: "Fractional factorial",
    DesignKind.PLACKETT_BURMAN: "Plackett-Burman",
    DesignKind.CENTRAL_COMPOSITE: "Central composite",
    DesignKind.BOX_BEHNKEN: "Box-Behnken",
    DesignKind.DEFINITIVE_SCREENING: "Definitive screening",
}

#: The least number of factors each family makes sense for.
MIN_FACTORS = {
    DesignKind.FULL_FACTORIAL: 1,
    DesignKind.FRACTIONAL_FACTORIAL: 3,
    DesignKind.PLACKETT_BURMAN: 2,
    DesignKind.CENTRAL_COMPOSITE: 2,
    DesignKind.BOX_BEHNKEN: 3,
    DesignKind.DEFINITIVE_SCREENING: 2,
}

CCD_FACES = ("ccf", "ccc", "cci")


def parse_kind(value: str) -> DesignKind:
    """A design family from its name; the error lists the choices."""
    cleaned = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    for kind in DesignKind:
        if cleaned in {kind.value, kind.label.lower().replace("-", "_").replace(" ", "_")}:
            return kind
    choices = ", ".join(k.value for k in DesignKind)
    raise InvalidInput(f"design '{value}' is not known: choose one of {choices}", "kind")


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))


def conference_orders(limit: int = 2 * MAX_FACTORS + 2) -> tuple[int, ...]:
    """The orders (up to `limit`) for which a conference matrix is built here."""
    return tuple(n for n in range(2, limit + 1) if n == 2 or (n % 2 == 0 and _is_prime(n - 1)))


def conference_matrix(order: int) -> Matrix:
    """A conference matrix C of `order` (zero diagonal, +-1 elsewhere, C^T C = (order-1) I).

    Paley: for q = order - 1 prime, the Jacobsthal matrix Q[i, j] = chi(j - i) with chi the
    quadratic character modulo q, bordered by a row of ones and a column of ones (q = 1 mod 4,
    symmetric) or minus ones (q = 3 mod 4, antisymmetric).
    """
    if order == 2:
        return np.array([[0.0, 1.0], [1.0, 0.0]])
    q = order - 1
    if not _is_prime(q):
        raise InvalidInput(
            f"no conference matrix of order {order} is built here (order - 1 must be prime)",
            "factors",
        )
    squares = {(x * x) % q for x in range(1, q)}

    def chi(a: int) -> float:
        a %= q
        return 0.0 if a == 0 else (1.0 if a in squares else -1.0)

    jacobsthal = np.array([[chi(j - i) for j in range(q)] for i in range(q)])
    sign = 1.0 if q % 4 == 1 else -1.0
    c = np.zeros((order, order))
    c[0, 1:] = 1.0
    c[1:, 0] = sign
    c[1:, 1:] = jacobsthal
    return c


def definitive_screening(k: int) -> Matrix:
    """A definitive screening design for `k` factors: [C; -C; 0] over the first k columns of
    the smallest conference matrix of order >= k (k + 1 when k is odd)."""
    wanted = k + (k % 2)
    order = next((n for n in conference_orders() if n >= wanted), None)
    if order is None:
        raise InvalidInput(f"at most {MAX_FACTORS} factors in a definitive screening", "factors")
    c = conference_matrix(order)[:, :k]
    return np.vstack([c, -c, np.zeros((1, k))])


def coded_matrix(
    kind: DesignKind,
    k: int,
    *,
    levels: Sequence[int] | None = None,
    resolution: int = 4,
    center_points: int = 0,
    face: str = "ccf",
) -> Matrix:
    """The design's rows in coded units, in standard order (centre points last).

    `levels` is used by the full factorial (2 by default; 3 gives -1, 0, +1); `resolution` by
    the fractional factorial (III, IV or V); `face` by the central composite (ccf: axial points
    on the faces, so every run stays inside the ranges chosen; ccc: circumscribed, rotatable;
    cci: inscribed). `center_points` are added to any design.
    """
    if not MIN_FACTORS[kind] <= k <= MAX_FACTORS:
        raise InvalidInput(
            f"a {kind.label.lower()} design needs {MIN_FACTORS[kind]} to {MAX_FACTORS} "
            f"factors, not {k}",
            "factors",
        )
    if not 0 <= center_points <= 20:
        raise InvalidInput("centre points must be 0 to 20", "center_points")
    if kind is DesignKind.FULL_FACTORIAL:
        counts = list(levels) if levels else [2] * k
        if len(counts) != k or any(not 2 <= n <= 5 for n in counts):
            raise InvalidInput("give every factor 2 to 5 levels", "levels")
        if int(np.prod(counts)) > MAX_RUNS:
            raise InvalidInput(f"a full factorial over {MAX_RUNS} runs is refused", "levels")
        raw = pyDOE3.fullfact(counts)
        # fullfact numbers levels 0 .. n-1; spread them evenly over -1 .. +1.
        matrix = raw * 2.0 / (np.array(counts, dtype=float) - 1.0) - 1.0
    elif kind is DesignKind.FRACTIONAL_FACTORIAL:
        if resolution not in (3, 4, 5):
            raise InvalidInput("resolution must be III, IV or V (3, 4 or 5)", "resolution")
        try:
            matrix = np.asarray(pyDOE3.fracfact_by_res(k, resolution), dtype=float)
        except ValueError:
            raise InvalidInput(
                f"pyDOE3 knows no fractional factorial of resolution {resolution} for {k} "
                "factors: choose a lower resolution or a full factorial",
                "resolution",
            ) from None
        # pyDOE3 can return a lower resolution than asked (8 factors at V gives IV): check.
        found = resolution_of(matrix)
        if found is not None and found < resolution:
            raise InvalidInput(
                f"pyDOE3 offers only resolution {found} for {k} factors at resolution "
                f"{resolution}: choose resolution {found}, a full factorial or a definitive "
                "screening design",
                "resolution",
            )
    elif kind is DesignKind.PLACKETT_BURMAN:
        matrix = np.asarray(pyDOE3.pbdesign(k), dtype=float)
    elif kind is DesignKind.CENTRAL_COMPOSITE:
        if face not in CCD_FACES:
            raise InvalidInput(f"face must be one of {', '.join(CCD_FACES)}", "face")
        if 2**k + 2 * k > MAX_RUNS:
            raise InvalidInput(f"a central composite over {MAX_RUNS} runs is refused", "factors")
        matrix = np.asarray(
            pyDOE3.ccdesign(k, center=(0, 0), alpha="rotatable", face=face), dtype=float
        )
    elif kind is DesignKind.BOX_BEHNKEN:
        # pyDOE3 adds centre points by default; they are ours to choose.
        matrix = np.asarray(pyDOE3.bbdesign(k, center=0), dtype=float)
    else:
        matrix = definitive_screening(k)
    if center_points:
        matrix = np.vstack([matrix, np.zeros((center_points, k))])
    if len(matrix) > MAX_RUNS:
        raise InvalidInput(
            f"a design of {len(matrix)} runs is refused (at most {MAX_RUNS})", "kind"
        )
    # Rounding clears pyDOE3's float dust; adding 0.0 turns -0.0 into 0.0.
    cleaned: Matrix = np.round(matrix, 12) + 0.0
    return cleaned


def expected_runs(kind: DesignKind, k: int, *, center_points: int = 0) -> int:
    """How many runs a design of this family has, from its definition (independent of how it
    was generated; the tests compare the two)."""
    base: int
    if kind is DesignKind.FULL_FACTORIAL:
        base = 2**k
    elif kind is DesignKind.PLACKETT_BURMAN:
        base = 4 * (k // 4 + 1)  # the smallest multiple of 4 above k
    elif kind is DesignKind.CENTRAL_COMPOSITE:
        base = 2**k + 2 * k
    elif kind is DesignKind.BOX_BEHNKEN:
        # pyDOE3 pairs every two factors on the edges of the cube: 4 runs per pair.
        base = 4 * (k * (k - 1) // 2)
    elif kind is DesignKind.DEFINITIVE_SCREENING:
        order = next(n for n in conference_orders() if n >= k + (k % 2))
        base = 2 * order + 1
    else:
        # A fractional factorial's size depends on the generators pyDOE3 picks: 2^(k-p) for
        # some p >= 1; `resolution_of()` checks what matters.
        raise InvalidInput("a fractional factorial's run count is 2^(k-p)", "kind")
    return base + center_points


def resolution_of(matrix: Matrix) -> int | None:
    """A two-level design's resolution: the length of the shortest word of its defining relation
    (the fewest columns whose product is constant); None for a full factorial (no such word)."""
    k = matrix.shape[1]
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            product = np.prod(matrix[:, list(subset)], axis=1)
            if np.all(product == product[0]):
                return size
    return None


def main_effect_correlation(matrix: Matrix) -> float:
    """The largest absolute correlation between two factor columns (0 = orthogonal)."""
    centred = matrix - matrix.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    k = matrix.shape[1]
    worst = 0.0
    for i, j in itertools.combinations(range(k), 2):
        if norms[i] and norms[j]:
            worst = max(worst, abs(float(centred[:, i] @ centred[:, j]) / (norms[i] * norms[j])))
    return worst


def main_effects_orthogonal_to_second_order(matrix: Matrix) -> bool:
    """Whether every main-effect column is orthogonal to every two-factor interaction and
    squared column: the defining property of a definitive screening design (and of any
    fold-over design)."""
    k = matrix.shape[1]
    second = [
        matrix[:, i] * matrix[:, j] for i, j in itertools.combinations_with_replacement(range(k), 2)
    ]
    return all(abs(float(matrix[:, m] @ s)) < 1e-9 for m in range(k) for s in second)
