"""The factor settings that best meet one or several responses inside the explored region, and
the candidate design space around them.

Pure numpy. Each response has a goal (maximise, minimise or hit a target) and may have limits
(the lowest and highest acceptable value). Responses are combined with Derringer-Suich
desirabilities (J Qual Technol 1980): each prediction is scaled to 0..1 and the overall
desirability is their geometric mean. The search is over the explored region only (coded -1..+1,
never extrapolated): a full grid when it has at most SEARCH_POINTS points, otherwise
SEARCH_POINTS points drawn uniformly with a fixed seed (the published T-cell media screen searched
1e5 in-silico formulations the same way, PMC8320393).

ICH Q8(R2) calls the combination of inputs shown to assure quality the design space. What a DoE
shows is a *candidate*: the settings where every predicted response is within its limits. The
range written back for one parameter is its proven range through the optimum: the stretch of
that factor, the others held at the optimum, over which every response stays within its limits.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from atmpchain.errors import InvalidInput
from atmpchain.translation.doe.analysis import Fit

SEARCH_POINTS = 100_000
SLICE_POINTS = 201
_SEED = 20_260_000


class Goal(enum.Enum):
    """What a response should do."""

    MAXIMISE = "maximise"
    MINIMISE = "minimise"
    TARGET = "target"


@dataclass(frozen=True, slots=True)
class Objective:
    """A response's goal and its acceptable limits (None: no limit on that side)."""

    response: str
    goal: Goal
    lower: float | None = None
    upper: float | None = None
    target: float | None = None

    def acceptable(self, values: np.ndarray) -> np.ndarray:
        """Which predictions lie within the limits."""
        ok = np.ones(values.shape, dtype=bool)
        if self.lower is not None:
            ok &= values >= self.lower
        if self.upper is not None:
            ok &= values <= self.upper
        return ok


def make_objective(
    response: str,
    goal: str,
    lower: float | None = None,
    upper: float | None = None,
    target: float | None = None,
) -> Objective:
    """An objective after checking that its limits make sense for its goal."""
    try:
        kind = Goal((goal or "").strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{response}: goal must be maximise, minimise or target", "goal"
        ) from None
    if lower is not None and upper is not None and not lower < upper:
        raise InvalidInput(f"{response}: the lower limit must be below the upper", "limits")
    if kind is Goal.TARGET:
        if target is None:
            raise InvalidInput(f"{response}: a target goal needs the target value", "target")
        if (lower is not None and target < lower) or (upper is not None and target > upper):
            raise InvalidInput(f"{response}: the target must lie within the limits", "target")
    return Objective(response, kind, lower, upper, target)


def search_points(k: int) -> np.ndarray:
    """The coded points searched: a grid of the explored region, or a uniform sample of it
    (with its corners and centre) when the grid would be too large."""
    per_axis = int(SEARCH_POINTS ** (1.0 / k))
    if per_axis >= 5:
        axis = np.linspace(-1.0, 1.0, per_axis)
        return np.array(list(itertools.product(axis, repeat=k)))
    rng = np.random.default_rng(_SEED)
    sample = rng.uniform(-1.0, 1.0, size=(SEARCH_POINTS, k))
    return np.vstack([sample, np.zeros((1, k))])


def desirability(objective: Objective, values: np.ndarray) -> np.ndarray:
    """Each prediction scaled to 0 (unacceptable) .. 1 (as good as it gets), linearly between
    the limits; a missing limit is taken from the predictions searched."""
    low = objective.lower if objective.lower is not None else float(values.min())
    high = objective.upper if objective.upper is not None else float(values.max())
    if high <= low:
        return np.ones(values.shape)
    if objective.goal is Goal.MAXIMISE:
        d = (values - low) / (high - low)
    elif objective.goal is Goal.MINIMISE:
        d = (high - values) / (high - low)
    else:
        target = float(objective.target)  # type: ignore[arg-type]
        below = (values - low) / (target - low) if target > low else np.ones(values.shape)
        above = (high - values) / (high - target) if high > target else np.ones(values.shape)
        d = np.where(values <= target, below, above)
    return np.clip(d, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class ProvenRange:
    """A factor's range through the optimum over which every response stays acceptable."""

    factor: str
    low: float
    high: float
    unit: str
    #: Whether the range reaches the edge of the explored region (it may extend beyond, unshown).
    at_low_edge: bool
    at_high_edge: bool


@dataclass(frozen=True, slots=True)
class Optimum:
    """The best settings found, their predictions and the candidate design space."""

    coded: tuple[float, ...]
    actual: tuple[float, ...]
    predictions: tuple[tuple[str, float], ...]
    desirability: float
    #: Share of the searched region where every response is within its limits (0..1).
    acceptable_share: float
    #: Whether any response has limits (without them, no design space is shown).
    has_limits: bool
    proven: tuple[ProvenRange, ...]


def optimise(fits: Sequence[Fit], objectives: Sequence[Objective]) -> Optimum:
    """Search the explored region for the settings of highest overall desirability."""
    if not objectives:
        raise InvalidInput("choose at least one response to optimise", "goal")
    by_name = {fit.response: fit for fit in fits}
    missing = [o.response for o in objectives if o.response not in by_name]
    if missing:
        raise InvalidInput(f"no analysed model for {', '.join(missing)}: analyse it first", "goal")
    factors = fits[0].factors
    k = len(factors)
    points = search_points(k)
    predictions = [by_name[o.response].predict_many(points) for o in objectives]
    scores = np.ones(points.shape[0])
    ok = np.ones(points.shape[0], dtype=bool)
    for objective, values in zip(objectives, predictions, strict=True):
        scores = scores * desirability(objective, values)
        ok &= objective.acceptable(values)
    overall = scores ** (1.0 / len(objectives))
    # Among equally desirable points, prefer acceptable ones, then the one nearest the centre.
    rank = overall + ok * 1e-9 - np.abs(points).sum(axis=1) * 1e-12
    best = int(np.argmax(rank))
    coded = tuple(float(v) for v in points[best])
    has_limits = any(o.lower is not None or o.upper is not None for o in objectives)
    proven = (
        tuple(
            r
            for i in range(k)
            if (r := _proven_range(fits, objectives, by_name, coded, i)) is not None
        )
        if has_limits and bool(ok[best])
        else ()
    )
    return Optimum(
        coded=coded,
        actual=tuple(f.actual(c) for f, c in zip(factors, coded, strict=True)),
        predictions=tuple(
            (o.response, float(by_name[o.response].predict(coded))) for o in objectives
        ),
        desirability=float(overall[best]),
        acceptable_share=float(ok.mean()),
        has_limits=has_limits,
        proven=proven,
    )


def _proven_range(
    fits: Sequence[Fit],
    objectives: Sequence[Objective],
    by_name: dict[str, Fit],
    at: tuple[float, ...],
    i: int,
) -> ProvenRange | None:
    axis = np.linspace(-1.0, 1.0, SLICE_POINTS)
    points = np.tile(np.array(at), (SLICE_POINTS, 1))
    points[:, i] = axis
    ok = np.ones(SLICE_POINTS, dtype=bool)
    for objective in objectives:
        ok &= objective.acceptable(by_name[objective.response].predict_many(points))
    start = int(np.argmin(np.abs(axis - at[i])))
    if not ok[start]:
        return None
    lo = hi = start
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < SLICE_POINTS - 1 and ok[hi + 1]:
        hi += 1
    factor = fits[0].factors[i]
    return ProvenRange(
        factor=factor.name,
        low=factor.actual(float(axis[lo])),
        high=factor.actual(float(axis[hi])),
        unit=factor.unit,
        at_low_edge=lo == 0,
        at_high_edge=hi == SLICE_POINTS - 1,
    )
