"""The analysis of a study's results: an ordinary least squares model in coded units (statsmodels),
its ANOVA, R2 and adjusted R2, residual checks, the data of the main-effect and interaction plots
and of a response surface.

Pure: numpy, pandas and statsmodels, no database. Factors enter the formula as x1 .. xk (their
names may hold any sign); terms are shown with the factor names. Donor blocks enter as a
categorical term when there is more than one, so a donor's offset is not read as noise.
"""

from __future__ import annotations

import enum
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import statsmodels.formula.api as smf  # type: ignore[import-untyped]
from scipy import stats  # type: ignore[import-untyped]
from statsmodels.stats.anova import anova_lm  # type: ignore[import-untyped]
from statsmodels.stats.stattools import durbin_watson  # type: ignore[import-untyped]

from atmpchain.errors import InvalidInput
from atmpchain.translation.doe.domain import Factor, Run

#: A studentised residual beyond this is flagged as a possible outlier.
OUTLIER_LIMIT = 3.0
#: The confidence level of the coefficient intervals.
CONFIDENCE = 0.95
SURFACE_POINTS = 21


class ModelOrder(enum.Enum):
    """Which terms the model holds."""

    LINEAR = "linear"
    INTERACTIONS = "interactions"
    PURE_QUADRATIC = "pure_quadratic"
    QUADRATIC = "quadratic"

    @property
    def label(self) -> str:
        """The model as people say it."""
        return {
            ModelOrder.LINEAR: "Main effects",
            ModelOrder.INTERACTIONS: "Main effects and two-factor interactions",
            ModelOrder.PURE_QUADRATIC: "Main effects and squared terms",
            ModelOrder.QUADRATIC: "Full quadratic (interactions and squares)",
        }[self]


def parse_order(value: str) -> ModelOrder:
    """A model order from its name; the error lists the choices."""
    for order in ModelOrder:
        if (value or "").strip().lower() == order.value:
            return order
    choices = ", ".join(o.value for o in ModelOrder)
    raise InvalidInput(f"model '{value}' is not known: choose one of {choices}", "model")


def term_keys(k: int, order: ModelOrder) -> list[str]:
    """The formula terms of the model over x1 .. xk (without intercept and blocks)."""
    keys = [f"x{i + 1}" for i in range(k)]
    if order in (ModelOrder.INTERACTIONS, ModelOrder.QUADRATIC):
        keys += [f"x{i + 1}:x{j + 1}" for i, j in itertools.combinations(range(k), 2)]
    if order in (ModelOrder.PURE_QUADRATIC, ModelOrder.QUADRATIC):
        keys += [f"I(x{i + 1} ** 2)" for i in range(k)]
    return keys


def term_label(key: str, names: Sequence[str]) -> str:
    """A formula term with the factor names: 'x1:x2' -> 'IL-2 × IL-7', 'I(x1 ** 2)' -> 'IL-2²'."""
    if key == "Intercept":
        return "Intercept"
    if key.startswith("C(block)[T."):
        return f"Donor {key[len('C(block)[T.') : -1]}"
    if key.startswith("I(x"):
        return f"{names[int(key[3:].split(' ')[0]) - 1]}²"
    return " × ".join(names[int(part[1:]) - 1] for part in key.split(":"))


@dataclass(frozen=True, slots=True)
class Term:
    """A coefficient of the fitted model (coded units) with its 95 % interval."""

    key: str
    label: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True, slots=True)
class AnovaRow:
    """One source of variation in the ANOVA table (type II sums of squares)."""

    source: str
    df: float
    sum_sq: float
    f_value: float | None
    p_value: float | None


@dataclass(frozen=True, slots=True)
class ResidualCheck:
    """What the residuals say about the model's assumptions."""

    #: Shapiro-Wilk p-value (normality; small means the residuals are not normal).
    normality_p: float | None
    #: Durbin-Watson statistic in run order (about 2: no drift along the run order).
    durbin_watson: float
    #: Run orders whose studentised residual is beyond OUTLIER_LIMIT.
    outliers: tuple[int, ...]
    fitted: tuple[float, ...]
    residuals: tuple[float, ...]
    orders: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Fit:
    """A fitted model of one response."""

    response: str
    order: ModelOrder
    factors: tuple[Factor, ...]
    terms: tuple[Term, ...]
    anova: tuple[AnovaRow, ...]
    r2: float
    adj_r2: float
    n: int
    residual_df: int
    checks: ResidualCheck
    #: The average donor offset, added to predictions (they stand for an average donor).
    block_offset: float

    def coefficient(self, key: str) -> float:
        """A coefficient by its formula key (0 when the model has no such term)."""
        return next((t.estimate for t in self.terms if t.key == key), 0.0)

    def predict(self, coded: Sequence[float]) -> float:
        """The predicted response at coded settings, for an average donor."""
        return float(self.predict_many(np.asarray([coded], dtype=float))[0])

    def predict_many(self, points: np.ndarray) -> np.ndarray:
        """Predictions at many coded points (rows) at once."""
        total = np.full(points.shape[0], self.coefficient("Intercept") + self.block_offset)
        for term in self.terms:
            key = term.key
            if key == "Intercept" or key.startswith("C(block)"):
                continue
            if key.startswith("I(x"):
                i = int(key[3:].split(" ")[0]) - 1
                total = total + term.estimate * points[:, i] ** 2
            else:
                column = np.ones(points.shape[0])
                for part in key.split(":"):
                    column = column * points[:, int(part[1:]) - 1]
                total = total + term.estimate * column
        return total


def fit_model(
    runs: Sequence[Run],
    ys: Sequence[float],
    factors: Sequence[Factor],
    response: str,
    order: ModelOrder,
) -> Fit:
    """Fit the model by ordinary least squares; refuse when the runs cannot estimate it."""
    k = len(factors)
    frame = pd.DataFrame([run.coded for run in runs], columns=[f"x{i + 1}" for i in range(k)])
    frame["y"] = list(ys)
    frame["block"] = [run.block for run in runs]
    frame["order"] = [run.order for run in runs]
    keys = term_keys(k, order)
    blocks = sorted(set(frame["block"]))
    rhs = " + ".join(keys + (["C(block)"] if len(blocks) > 1 else []))
    params = 1 + len(keys) + len(blocks) - 1
    if len(frame) <= params:
        raise InvalidInput(
            f"{response}: {len(frame)} runs with results cannot estimate the {params} terms of "
            f"the model '{order.label.lower()}' with an error left over: enter more results or "
            "choose a smaller model",
            "model",
        )
    model = smf.ols(f"y ~ {rhs}", data=frame)
    exog = model.exog
    if np.linalg.matrix_rank(exog) < exog.shape[1]:
        raise InvalidInput(
            f"{response}: the design cannot separate every term of the model "
            f"'{order.label.lower()}' (some are aliased, e.g. squared terms in a two-level "
            "design): choose a smaller model",
            "model",
        )
    result = model.fit()
    with warnings.catch_warnings():
        # An exact fit has no error left: statsmodels warns and gives NaN; we report it as is.
        warnings.simplefilter("ignore", RuntimeWarning)
        # Constant results (nothing to explain) give 0/0 for R2 and the tests, answered as NaN.
        warnings.simplefilter("ignore", UserWarning)
        conf = result.conf_int(alpha=1 - CONFIDENCE)
        table = anova_lm(result, typ=2)
        influence = result.get_influence().resid_studentized_internal
        bse, pvalues = result.bse, result.pvalues
        r2, adj_r2 = float(result.rsquared), float(result.rsquared_adj)
    names = [f.name for f in factors]
    terms = tuple(
        Term(
            key=key,
            label=term_label(key, names),
            estimate=float(result.params[key]),
            std_error=float(bse[key]),
            ci_low=float(conf.loc[key, 0]),
            ci_high=float(conf.loc[key, 1]),
            p_value=float(pvalues[key]),
        )
        for key in result.params.index
    )
    anova = tuple(
        AnovaRow(
            source="Residual"
            if source == "Residual"
            else ("Donor" if source == "C(block)" else term_label(str(source), names)),
            df=float(row["df"]),
            sum_sq=float(row["sum_sq"]),
            f_value=None if pd.isna(row["F"]) else float(row["F"]),
            p_value=None if pd.isna(row["PR(>F)"]) else float(row["PR(>F)"]),
        )
        for source, row in table.iterrows()
    )
    residuals = np.asarray(result.resid, dtype=float)
    by_order = np.argsort(frame["order"].to_numpy())
    with warnings.catch_warnings():
        # Residuals of an exact fit are all zero: the tests warn (range zero, 0/0) and answer
        # NaN, which the pages show as "not available" rather than failing the analysis.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        normality = float(stats.shapiro(residuals).pvalue) if len(residuals) >= 3 else None
        dw = float(durbin_watson(residuals[by_order]))
    checks = ResidualCheck(
        normality_p=normality,
        durbin_watson=dw,
        outliers=tuple(
            int(frame["order"].iloc[i])
            for i, r in enumerate(influence)
            if np.isfinite(r) and abs(r) > OUTLIER_LIMIT
        ),
        fitted=tuple(float(v) for v in result.fittedvalues),
        residuals=tuple(float(v) for v in residuals),
        orders=tuple(int(v) for v in frame["order"]),
    )
    block_terms = [t.estimate for t in terms if t.key.startswith("C(block)")]
    offset = sum(block_terms) / len(blocks) if block_terms else 0.0
    return Fit(
        response=response,
        order=order,
        factors=tuple(factors),
        terms=terms,
        anova=anova,
        r2=r2,
        adj_r2=adj_r2,
        n=len(frame),
        residual_df=int(result.df_resid),
        checks=checks,
        block_offset=offset,
    )


@dataclass(frozen=True, slots=True)
class LevelMean:
    """The mean response at one level of a factor (main-effect plot)."""

    coded: float
    actual: float
    mean: float


def main_effects(
    runs: Sequence[Run], ys: Sequence[float], factors: Sequence[Factor]
) -> dict[str, tuple[LevelMean, ...]]:
    """For each factor, the observed mean response at each of its levels."""
    out: dict[str, tuple[LevelMean, ...]] = {}
    for i, factor in enumerate(factors):
        groups: dict[float, list[float]] = {}
        for run, y in zip(runs, ys, strict=True):
            groups.setdefault(round(run.coded[i], 6), []).append(y)
        out[factor.name] = tuple(
            LevelMean(c, factor.actual(c), float(np.mean(v))) for c, v in sorted(groups.items())
        )
    return out


@dataclass(frozen=True, slots=True)
class InteractionLine:
    """Mean response across factor A's low and high, with factor B held low or high."""

    b_level: float
    a_levels: tuple[float, ...]
    means: tuple[float | None, ...]


def interaction(
    runs: Sequence[Run], ys: Sequence[float], a: int, b: int
) -> tuple[InteractionLine, ...]:
    """The interaction plot of factors a and b: observed means at their extreme levels."""
    lines = []
    for b_level in (-1.0, 1.0):
        means: list[float | None] = []
        for a_level in (-1.0, 1.0):
            cell = [
                y
                for run, y in zip(runs, ys, strict=True)
                if abs(run.coded[a] - a_level) < 1e-9 and abs(run.coded[b] - b_level) < 1e-9
            ]
            means.append(float(np.mean(cell)) if cell else None)
        lines.append(InteractionLine(b_level, (-1.0, 1.0), tuple(means)))
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class Surface:
    """Predicted response over two factors (actual units), the others held at `held`."""

    x_factor: str
    y_factor: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    z: tuple[tuple[float, ...], ...]
    held: tuple[float, ...]


def surface(fit: Fit, a: int, b: int, held: Sequence[float] | None = None) -> Surface:
    """The response surface over factors a and b across the explored region (coded -1 .. +1)."""
    k = len(fit.factors)
    if a == b or not (0 <= a < k and 0 <= b < k):
        raise InvalidInput("choose two different factors of the study", "factors")
    base = np.array(held if held is not None else [0.0] * k, dtype=float)
    grid = np.linspace(-1.0, 1.0, SURFACE_POINTS)
    rows = []
    for yb in grid:
        points = np.tile(base, (SURFACE_POINTS, 1))
        points[:, a] = grid
        points[:, b] = yb
        rows.append(tuple(float(v) for v in fit.predict_many(points)))
    fa, fb = fit.factors[a], fit.factors[b]
    return Surface(
        x_factor=fa.name,
        y_factor=fb.name,
        xs=tuple(fa.actual(float(v)) for v in grid),
        ys=tuple(fb.actual(float(v)) for v in grid),
        z=tuple(rows),
        held=tuple(f.actual(float(v)) for f, v in zip(fit.factors, base, strict=True)),
    )
