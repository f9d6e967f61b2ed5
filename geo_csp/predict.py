"""Predictors of next month's crime per unit, all fitted only on the months before a split.

Every predictor takes a monthly cube's counts ``n`` (units x months, :class:`geo_csp.cube.Cube`) and the
index ``end`` of the month to predict, reads only ``n[:, :end]``, and returns one score per unit
(higher = more crime expected there). :func:`geo_csp.backtest.rolling_backtest` scores them all the
same way; the product's default priority score is the one it picks on the user's own data
(:func:`choose_predictor`, :func:`priority_scores`).

The candidates (:data:`PREDICTORS`):

- ``counts``: the unit's count over the last ``counts_window_months`` (12) months: "counts alone";
- ``last_period``: the count of the last month;
- ``ewma_<h>m``: exponentially weighted counts of every past month, weight ``0.5 ** (age / h)``
  for each half-life ``h`` of ``ewma_half_lives_months`` (3, 6 and 12 months; the last month has
  age 0);
- ``persistence``: the share of past months in which the unit was a significant space-time Gi* hot
  spot (:func:`geo_csp.hotspots.gi_star` with the run's :class:`~geo_csp.hotspots.HotspotParams`),
  ties broken by ``counts``;
- ``gi_mean``: the unit's mean Gi* z over the past months (the statistic the hotspot map shows);
- ``kde_<h>m``: a Gaussian kernel of bandwidth ``h`` metres over the ``counts`` of every unit,
  taken at the unit centres (a point is at its cell's centre: the cells are far smaller than the
  bandwidths, which are tied to the cell size: ``kde_bandwidth_factors`` x the centre spacing),
  times the unit's area inside the study area, so that the score is an expected count;
- ``learned``: scikit-learn's ``HistGradientBoostingRegressor(loss="poisson")`` fitted on the past
  months' (unit, month) rows: lags 1-3 of the unit's count, its 3/6/12-month means, its EWMA, the
  same-month-last-year count (season), the trend (3-month minus 12-month mean), its mean over every
  past month, the mean count of its neighbours (the ring of the spatial weights) last month and over
  3, 12 and every past month, and the
  calendar month. Trained on the rows of the last ``learned_train_months`` (12) past months,
  predicting month ``end``;
- ``ensemble``: the mean of the percentile ranks of every EWMA half-life (3, 6 and 12 months) and
  ``learned`` (:func:`ensemble_members`): the half-life is uncertain, so the ensemble averages over
  the whole grid instead of picking one, and no member is picked on the test months. (``counts``,
  a flat 12-month window, left the ensemble: beside the 12-month EWMA it weighted long-run
  counts twice.)

All are vectorised over units (numpy, scipy.sparse); the only loops are over the few predictors
and bandwidths.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Final, TypeVar

import numpy as np
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from geo_csp import hotspots
from geo_csp._errors import ParameterError

__all__ = [
    "BASELINES",
    "LEARNED_FITS_KEPT",
    "PREDICTORS",
    "PredictParams",
    "PredictionInputs",
    "clipped_areas",
    "ensemble_members",
    "ewma_names",
    "family",
    "kde_names",
    "predictor_names",
    "score",
]

#: The candidate predictors besides the KDE bandwidths (``kde_<h>m``), simplest first.
PREDICTORS: Final = ("counts", "last_period", "persistence", "gi_mean", "learned", "ensemble")
#: The single baselines the learned model and the default selection are compared with (``ewma`` and
#: ``kde`` stand for their best half-life and bandwidth).
BASELINES: Final = ("counts", "last_period", "ewma", "persistence", "gi_mean", "kde")
#: Hot-spot bins (Gi* class 1) count towards ``persistence``.
_HOT: Final = 1
_T = TypeVar("_T")
#: Fits of ``learned`` kept in memory (the most recently used), keyed by everything a fit reads: a run's
#: priority score, its back-test and the same view drawn again ask for the same fits.
LEARNED_FITS_KEPT: Final = 64
_LEARNED_FITS: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
_LEARNED_FITS_LOCK = threading.Lock()  # the app runs each session's script in its own thread


@dataclass(frozen=True)
class PredictParams:
    """How the predictors are fitted; written into every back-test's and plan's metadata.

    Parameters
    ----------
    counts_window_months
        Months summed by ``counts`` (and smoothed by the KDE).
    ewma_half_lives_months
        Half-lives of the ``ewma_<h>m`` candidates, in months (all of them feed ``ensemble``); the middle
        one is also a feature of ``learned``.
    kde_bandwidth_factors
        KDE bandwidths as multiples of the spacing of the unit centres (the square root of the
        mean unit area): one ``kde_<h>m`` candidate each.
    kde_cutoff_sd
        The kernel is cut at this many bandwidths.
    learned_train_months
        Past months whose (unit, month) rows train ``learned``.
    learned_max_iter, learned_learning_rate, learned_max_leaf_nodes, learned_min_samples_leaf, learned_max_bins
        ``HistGradientBoostingRegressor`` settings (Poisson loss). It is fitted on one thread: on a
        shared two-core machine OpenMP threads made a fit 20x slower, not faster.
    seed
        Random state of the learned model.
    """

    counts_window_months: int = 12
    ewma_half_lives_months: tuple[float, ...] = (3.0, 6.0, 12.0)
    kde_bandwidth_factors: tuple[float, ...] = (1.0, 2.0, 4.0)
    kde_cutoff_sd: float = 3.0
    learned_train_months: int = 12
    learned_max_iter: int = 50
    learned_learning_rate: float = 0.15
    learned_max_leaf_nodes: int = 15
    learned_min_samples_leaf: int = 40
    learned_max_bins: int = 63
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.counts_window_months, int) or self.counts_window_months < 1:
            raise ParameterError(f"`counts_window_months` must be an integer >= 1; got {self.counts_window_months!r}")
        if not self.ewma_half_lives_months or any(not h > 0 for h in self.ewma_half_lives_months):
            raise ParameterError(
                f"`ewma_half_lives_months` must be positive numbers; got {self.ewma_half_lives_months!r}"
            )
        if not self.kde_bandwidth_factors or any(not f > 0 for f in self.kde_bandwidth_factors):
            raise ParameterError(
                f"`kde_bandwidth_factors` must be positive numbers; got {self.kde_bandwidth_factors!r}"
            )
        if not self.kde_cutoff_sd >= 1:
            raise ParameterError(f"`kde_cutoff_sd` must be >= 1; got {self.kde_cutoff_sd!r}")
        if not isinstance(self.learned_train_months, int) or self.learned_train_months < 1:
            raise ParameterError(f"`learned_train_months` must be an integer >= 1; got {self.learned_train_months!r}")
        if self.learned_max_iter < 1 or not self.learned_learning_rate > 0:
            raise ParameterError("`learned_max_iter` must be >= 1 and `learned_learning_rate` > 0")

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict."""
        out = asdict(self)
        out["kde_bandwidth_factors"] = list(self.kde_bandwidth_factors)
        out["ewma_half_lives_months"] = list(self.ewma_half_lives_months)
        return out


def clipped_areas(geometries: np.ndarray, study_area: shapely.Geometry | None) -> np.ndarray:
    """Area in m2 of each unit inside the study area (the whole unit when there is none)."""
    geoms = np.asarray(geometries, dtype=object)
    if study_area is None:
        whole: np.ndarray = shapely.area(geoms).astype("float64")
        return whole
    shapely.prepare(study_area)
    inside = shapely.contains(study_area, geoms)
    out: np.ndarray = shapely.area(geoms).astype("float64")
    edge = ~inside
    if edge.any():
        out[edge] = shapely.area(shapely.intersection(geoms[edge], study_area))
    return out


def _ring_mean_matrix(w: sparse.spmatrix) -> sparse.csr_matrix:
    """Row-standardised binary weights without the diagonal (mean over a unit's neighbours)."""
    b = sparse.csr_matrix(w, dtype="float64", copy=True)
    b.setdiag(0.0)
    b.eliminate_zeros()
    b.data[:] = 1.0
    deg = np.asarray(b.sum(axis=1)).ravel()
    return sparse.diags(np.where(deg > 0, 1.0 / np.maximum(deg, 1.0), 0.0)) @ b


def _window_mean(cum: np.ndarray, t: np.ndarray, k: int) -> np.ndarray:
    """Mean of the ``k`` months before each month index ``t`` (fewer at the start), from prefix sums."""
    lo = np.maximum(t - k, 0)
    width = np.maximum(t - lo, 1)
    mean: np.ndarray = (cum[:, t] - cum[:, lo]) / width
    return mean


@dataclass(frozen=True)
class PredictionInputs:
    """What the predictors need from one monthly cube, computed once for every split.

    Attributes
    ----------
    n
        Counts, units x months.
    w
        The spatial weights of the hotspot run (binary, units x units).
    centroids
        Unit centres, (units, 2) metres.
    area_m2
        Each unit's area inside the study area.
    month_of_year
        Calendar month (1-12) of each cube month.
    hotspot_params, params
        Gi* and predictor parameters.
    """

    n: np.ndarray
    w: sparse.csr_matrix
    centroids: np.ndarray
    area_m2: np.ndarray
    month_of_year: np.ndarray
    hotspot_params: hotspots.HotspotParams = field(default_factory=hotspots.HotspotParams)
    params: PredictParams = field(default_factory=PredictParams)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n_units, n_months = np.shape(self.n)
        if self.w.shape != (n_units, n_units) or len(self.area_m2) != n_units or len(self.centroids) != n_units:
            raise ParameterError("prediction inputs disagree on the number of units (counts, weights, centres, areas)")
        if len(self.month_of_year) != n_months:
            raise ParameterError("prediction inputs disagree on the number of months")

    @property
    def spacing_m(self) -> float:
        """Spacing of the unit centres: the square root of the mean unit area."""
        return float(np.sqrt(np.mean(self.area_m2[self.area_m2 > 0]))) if (self.area_m2 > 0).any() else 1.0

    @property
    def bandwidths_m(self) -> tuple[float, ...]:
        """The KDE bandwidths, metres (rounded to 10 m), one per ``kde_bandwidth_factors``."""
        return tuple(
            float(max(10.0, round(f * self.spacing_m / 10.0) * 10.0)) for f in self.params.kde_bandwidth_factors
        )

    def _get(self, key: str, build: Callable[[], _T]) -> _T:
        if key not in self._cache:
            self._cache[key] = build()
        value: _T = self._cache[key]
        return value

    def cumulative(self) -> np.ndarray:
        """Prefix sums of the counts: column ``t`` holds the sum of months ``0..t-1``."""
        return self._get(
            "cum", lambda: np.concatenate([np.zeros((self.n.shape[0], 1)), np.cumsum(self.n, axis=1)], axis=1)
        )

    def ring(self) -> sparse.csr_matrix:
        """Mean over each unit's neighbours."""
        return self._get("ring", lambda: _ring_mean_matrix(self.w))

    def kernel(self, bandwidth_m: float) -> sparse.csr_matrix:
        """Gaussian kernel weights between unit centres, cut at ``kde_cutoff_sd`` bandwidths (1 on the diagonal).

        Only the columns of units with an incident in some month are stored: the kernel only ever multiplies
        counts, and an empty unit's column adds nothing. A county at a fine resolution has most of its cells
        empty, so this is the same KDE at a fraction of the pairs.
        """

        def build() -> sparse.csr_matrix:
            n_units = self.n.shape[0]
            occupied = np.flatnonzero(np.asarray(self.n).sum(axis=1) > 0)
            if not occupied.size:
                return sparse.csr_matrix((n_units, n_units), dtype="float64")
            d = cKDTree(self.centroids).sparse_distance_matrix(
                cKDTree(self.centroids[occupied]), self.params.kde_cutoff_sd * bandwidth_m, output_type="coo_matrix"
            )
            col = occupied[d.col]
            off = d.row != col  # the diagonal is set to 1 below, whether or not the zero distance was stored
            rows = np.concatenate([d.row[off], occupied])
            cols = np.concatenate([col[off], occupied])
            vals = np.concatenate([np.exp(-0.5 * (d.data[off] / bandwidth_m) ** 2), np.ones(occupied.size)])
            return sparse.csr_matrix((vals, (rows, cols)), shape=(n_units, n_units))

        return self._get(f"kernel_{bandwidth_m}", build)

    def features(self) -> np.ndarray:
        """Features of every (unit, month t) from months before t: array (units, months + 1, features).

        Index ``t`` = n_months gives the features for predicting the month after the data.
        """

        def build() -> np.ndarray:
            n = self.n
            n_units, n_months = n.shape
            t = np.arange(n_months + 1)
            cum = self.cumulative()
            padded = np.concatenate([np.full((n_units, 12), np.nan), n], axis=1)  # padded[:, 12 + s] = n[:, s]

            def lag(k: int) -> np.ndarray:
                return padded[:, 12 + t - k]

            ring = self.ring()
            ring_n = np.asarray(ring @ n)
            ring_cum = np.concatenate([np.zeros((n_units, 1)), np.cumsum(ring_n, axis=1)], axis=1)
            ring_padded = np.concatenate([np.full((n_units, 1), np.nan), ring_n], axis=1)
            mean3, mean12 = _window_mean(cum, t, 3), _window_mean(cum, t, 12)
            moy = np.concatenate([self.month_of_year, [self.month_of_year[-1] % 12 + 1]]).astype("float64")
            cols = [
                lag(1),
                lag(2),
                lag(3),
                mean3,
                _window_mean(cum, t, 6),
                mean12,
                self.ewma_all(self.middle_half_life),
                lag(12),
                mean3 - mean12,
                _window_mean(cum, t, n_months),
                ring_padded[:, t],
                _window_mean(ring_cum, t, 3),
                _window_mean(ring_cum, t, 12),
                _window_mean(ring_cum, t, n_months),
                np.broadcast_to(moy[t], (n_units, n_months + 1)),
            ]
            return np.stack(cols, axis=2)

        return self._get("features", build)

    @property
    def middle_half_life(self) -> float:
        """The middle EWMA half-life (months), a feature of ``learned``."""
        lives = sorted(self.params.ewma_half_lives_months)
        return float(lives[len(lives) // 2])

    def ewma_all(self, half_life_months: float) -> np.ndarray:
        """EWMA of the months before each t (units x months + 1), weights ``0.5 ** (age / half-life)``."""

        def build() -> np.ndarray:
            n_months = self.n.shape[1]
            s = np.arange(n_months)[:, None]
            t = np.arange(n_months + 1)[None, :]
            age = t - 1 - s
            weight = np.where(age >= 0, 0.5 ** (np.maximum(age, 0) / half_life_months), 0.0)
            return self.n @ weight

        return self._get(f"ewma_{half_life_months}", build)

    def gi(self, end: int) -> hotspots.GiStarResult:
        """Space-time Gi* of months ``0..end-1`` (the run's parameters; no permutations)."""
        p = self.hotspot_params
        return self._get(
            f"gi_{end}",
            lambda: hotspots.gi_star(
                self.n[:, :end],
                self.w,
                time_window=p.time_window,
                global_window=p.global_window,
                permutations=0,
                fdr=p.fdr,
                alpha=p.alpha,
            ),
        )


def kde_names(inputs: PredictionInputs) -> tuple[str, ...]:
    """The KDE candidates' names, ``kde_<h>m``, one per bandwidth."""
    return tuple(f"kde_{h:.0f}m" for h in inputs.bandwidths_m)


def ewma_names(inputs: PredictionInputs) -> tuple[str, ...]:
    """The EWMA candidates' names, ``ewma_<h>m``, one per half-life in months."""
    return tuple(f"ewma_{h:g}m" for h in inputs.params.ewma_half_lives_months)


def predictor_names(inputs: PredictionInputs) -> tuple[str, ...]:
    """Every candidate, simplest first: :data:`PREDICTORS` with the EWMA half-lives and KDE bandwidths."""
    return (*PREDICTORS[:2], *ewma_names(inputs), *PREDICTORS[2:4], *kde_names(inputs), *PREDICTORS[4:])


def ensemble_members(inputs: PredictionInputs) -> tuple[str, ...]:
    """The predictors whose percentile ranks ``ensemble`` averages: every EWMA half-life and ``learned``."""
    return (*ewma_names(inputs), "learned")


def family(name: str) -> str:
    """The baseline a candidate belongs to: ``ewma_6m`` -> ``ewma``, ``kde_290m`` -> ``kde``, else itself."""
    return name.split("_")[0] if name.startswith(("ewma_", "kde_")) else name


def _percentile_rank(values: np.ndarray) -> np.ndarray:
    """Each value's rank among them as a share in (0, 1] (ties share their mean rank)."""
    from scipy.stats import rankdata

    ranks: np.ndarray = rankdata(values) / max(len(values), 1)
    return ranks


def _learned_key(inputs: PredictionInputs) -> str:
    """A digest of everything a fit of ``learned`` reads: the counts, the weights (the ring features), the
    calendar months and the predictor parameters."""

    def build() -> str:
        w = inputs.w.tocsr()
        digest = hashlib.sha256()
        for part in (
            np.asarray(inputs.n.shape, dtype="int64"),
            np.ascontiguousarray(inputs.n, dtype="float64"),
            np.asarray(w.shape, dtype="int64"),
            w.indptr.astype("int64"),
            w.indices.astype("int64"),
            w.data.astype("float64"),
            np.asarray(inputs.month_of_year, dtype="int64"),
        ):
            digest.update(part.tobytes())
        digest.update(json.dumps(inputs.params.to_dict(), sort_keys=True).encode())
        return digest.hexdigest()

    return inputs._get("learned_key", build)


def _learned(inputs: PredictionInputs, end: int) -> np.ndarray:
    """The ``learned`` scores of month ``end``: a fit of the same inputs made before in this process (the fit is
    deterministic: seeded, one thread), else :func:`_fit_learned`; each call gets its own array."""
    key = (_learned_key(inputs), end)
    with _LEARNED_FITS_LOCK:
        kept = _LEARNED_FITS.get(key)
        if kept is not None:
            _LEARNED_FITS.move_to_end(key)
    if kept is None:
        kept = _fit_learned(inputs, end)
        kept.flags.writeable = False
        with _LEARNED_FITS_LOCK:
            _LEARNED_FITS[key] = kept
            while len(_LEARNED_FITS) > LEARNED_FITS_KEPT:
                _LEARNED_FITS.popitem(last=False)
    return kept.copy()


def _fit_learned(inputs: PredictionInputs, end: int) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    p = inputs.params
    feats = inputs.features()
    first = max(1, end - p.learned_train_months)
    months = np.arange(first, end)
    if months.size == 0:
        raise ParameterError(f"the learned predictor needs at least 2 past months; month {end} has {end}")
    x = feats[:, months, :].reshape(-1, feats.shape[2])
    y = inputs.n[:, months].reshape(-1)
    if y.sum() <= 0:
        return np.zeros(inputs.n.shape[0])
    # a feature with one value in the training rows (the season lag before a year of data) says nothing
    lo, hi = np.nanmin(np.where(np.isnan(x), np.inf, x), axis=0), np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=0)
    useful = hi > lo
    x = x[:, useful]
    model = HistGradientBoostingRegressor(
        loss="poisson",
        max_iter=p.learned_max_iter,
        learning_rate=p.learned_learning_rate,
        max_leaf_nodes=p.learned_max_leaf_nodes,
        min_samples_leaf=p.learned_min_samples_leaf,
        max_bins=p.learned_max_bins,
        early_stopping=False,
        random_state=p.seed,
    )
    with threadpool_limits(limits=1):
        model.fit(x, y)
        predicted: np.ndarray = model.predict(feats[:, end, :][:, useful])
        return predicted


def score(name: str, inputs: PredictionInputs, end: int) -> np.ndarray:
    """Scores of predictor ``name`` for month ``end`` from months ``0..end-1`` only (higher = more crime).

    ``end`` may be the number of months (a forecast of the month after the data).

    Raises
    ------
    ParameterError
        For an unknown predictor or fewer than 2 past months.
    """
    n_months = inputs.n.shape[1]
    if not 2 <= end <= n_months:
        raise ParameterError(
            f"a prediction needs at least 2 past months and at most the {n_months} held; got end={end}"
        )
    cum = inputs.cumulative()
    counts: np.ndarray = cum[:, end] - cum[:, max(0, end - inputs.params.counts_window_months)]
    if name == "counts":
        return counts
    if name == "last_period":
        last: np.ndarray = inputs.n[:, end - 1].astype("float64")
        return last
    if name in ewma_names(inputs):
        ewma: np.ndarray = inputs.ewma_all(inputs.params.ewma_half_lives_months[ewma_names(inputs).index(name)])[:, end]
        return ewma
    if name == "persistence":
        share = (inputs.gi(end).hot_cold == _HOT).mean(axis=1)
        persistence: np.ndarray = share + counts / (counts.max() + 1.0) * 1e-6  # counts break ties between equal shares
        return persistence
    if name == "gi_mean":
        z_mean: np.ndarray = inputs.gi(end).z.mean(axis=1)
        return z_mean
    if name.startswith("kde_") and name in kde_names(inputs):
        h = inputs.bandwidths_m[kde_names(inputs).index(name)]
        density: np.ndarray = np.asarray(inputs.kernel(h) @ counts) * inputs.area_m2 / (2 * np.pi * h * h)
        return density
    if name == "learned":
        return inputs._get(f"learned_{end}", lambda: _learned(inputs, end))
    if name == "ensemble":
        members = [_percentile_rank(score(m, inputs, end)) for m in ensemble_members(inputs)]
        ensemble: np.ndarray = np.mean(members, axis=0)
        return ensemble
    raise ParameterError(f"unknown predictor {name!r}; choose one of {predictor_names(inputs)}")
