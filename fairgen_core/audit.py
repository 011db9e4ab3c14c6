"""Audit of a dataset before any model is trained: who is in it, which columns give the groups away, and how
unfair a plain classifier trained on it is.

* :func:`group_rates` — size, share and base rate P(y=1 | group) of every sensitive group, per attribute
  and (with several attributes) per intersectional group.
* :func:`label_imbalance` — the P(group, label) imbalance the paper balances: the smallest and largest
  cells, their ratio, the base-rate gap and the data's statistical parity difference.
* :func:`column_distribution` — one column's distribution per group, as tidy frames a chart can draw.
* :func:`proxy_scores` — mutual information between every other modelled column and the group, ranked.
* :func:`baseline_classifier` — a logistic regression's per-group metrics and confusion matrices.
* :func:`audit_data` — all of the above except the per-column distributions, in one call.

Groups are the intersectional groups of :func:`fairgen_core.data.spec.assign_domains`; rows with a
missing label or sensitive value are left out of every result.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression

from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.schema import ColumnKind, Schema, infer_schema, numeric_values
from fairgen_core.data.spec import DatasetSpec, DomainAssignment, assign_domains, domain_table, require_column
from fairgen_core.data.splits import default_split
from fairgen_core.data.structure import detect_structure
from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import fairness_report

#: Category under which missing values are counted in per-group shares.
MISSING = "(missing)"
#: Category pooling the values beyond :attr:`AuditConfig.max_categories`.
OTHER = "(other)"
#: Columns of :func:`proxy_scores`.
PROXY_COLUMNS = ("column", "kind", "levels", "mutual_information", "normalised", "strong")
#: The per-group columns of :attr:`BaselineResult.by_group` the Data audit page and the report show.
BASELINE_RATE_COLUMNS = ("n", "base_rate", "selection_rate", "tpr", "fpr", "accuracy", "balanced_accuracy")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: A baseline balanced accuracy from which its inputs are searched for a column leaking the label.
NEAR_PERFECT_ACCURACY = 0.98
QUANTILE_NAMES = ("q05", "q25", "median", "q75", "q95")


@dataclass(frozen=True)
class AuditConfig:
    """Settings of the audit.

    Parameters
    ----------
    proxy_threshold : float
        A column is a *strong proxy* when its normalised mutual information with the group (the share of
        the group's entropy it explains, see :func:`proxy_scores`) is at least this. The default 0.1 means
        that the column alone removes a tenth of the uncertainty about a row's group; on Adult it flags
        ``relationship``, ``marital-status`` and ``occupation`` for sex, and on German nothing.
    bins : int
        Numeric columns with more distinct values than this are cut into this many quantile bins for the
        mutual information, and into this many equal-width bins for the histograms.
    max_categories : int
        Per-group shares show this many of a categorical column's most frequent values; the rest are
        pooled as ``(other)``.
    seed : int
        Seed of the baseline's train/validation/test split (the split the generator uses with this seed):
        the baseline is fitted on the train part and scored on the test part.
    max_iter : int
        Iteration bound of the logistic regression.
    """

    proxy_threshold: float = 0.1
    bins: int = 20
    max_categories: int = 15
    seed: int = 0
    max_iter: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.proxy_threshold <= 1:
            raise FairGenError(f"proxy_threshold must lie in (0, 1], not {self.proxy_threshold!r}.")
        if self.bins < 2 or self.max_categories < 1 or self.max_iter < 1:
            raise FairGenError(
                f"bins must be at least 2 and max_categories and max_iter at least 1 (got bins={self.bins}, "
                f"max_categories={self.max_categories}, max_iter={self.max_iter})."
            )


@dataclass(frozen=True)
class DomainCell:
    """One (group, label) cell of the data: its size and its share P(group, label)."""

    group: str
    label: str
    n: int
    share: float

    @property
    def name(self) -> str:
        """``group & label``, e.g. ``sex=Female & income=>50K``."""
        return f"{self.group} & {self.label}"


@dataclass(frozen=True)
class Imbalance:
    """How far the data is from the balanced P(group, label) that the paper's generator aims at.

    Attributes
    ----------
    smallest, largest : DomainCell
        The (group, label) cells with the fewest and the most rows.
    balanced_share : float
        The share each cell would hold in balanced data, ``1 / n_domains``.
    lowest, highest : tuple of (str, float)
        The groups with the lowest and the highest base rate P(y=1 | group), with those rates.
    statistical_parity_difference : float
        Base rate of the group unprivileged on every attribute minus that of the group privileged on every
        attribute (aif360's ``BinaryLabelDatasetMetric.statistical_parity_difference`` of the data).
    disparate_impact : float
        The ratio of those two base rates.
    """

    smallest: DomainCell
    largest: DomainCell
    balanced_share: float
    lowest: tuple[str, float]
    highest: tuple[str, float]
    statistical_parity_difference: float
    disparate_impact: float

    @property
    def ratio(self) -> float:
        """``largest.n / smallest.n`` (inf when the smallest cell is empty)."""
        return self.largest.n / self.smallest.n if self.smallest.n else float("inf")

    @property
    def base_rate_gap(self) -> float:
        """Highest minus lowest base rate, ``>= 0``."""
        return self.highest[1] - self.lowest[1]

    def describe(self) -> tuple[str, str]:
        """Two plain sentences: the smallest cell against the largest, and the base-rate gap."""
        small, large = self.smallest, self.largest
        cells = (
            f"The smallest cell, {small.name}, has {small.n:,} rows: {small.n / large.n:.0%} of the largest "
            f"({large.name}, {large.n:,} rows). It holds {small.share:.1%} of the rows; balanced data would put "
            f"{self.balanced_share:.1%} in every cell."
        )
        rates = (
            f"Base rates range from {self.lowest[1]:.1%} ({self.lowest[0]}) to {self.highest[1]:.1%} "
            f"({self.highest[0]}), a gap of {100 * self.base_rate_gap:.1f} percentage points; the data's "
            f"statistical parity difference is {self.statistical_parity_difference:+.3f} (disparate impact "
            f"{self.disparate_impact:.2f})."
        )
        return cells, rates


@dataclass(frozen=True, eq=False)
class ColumnDistribution:
    """One column's distribution in every group (see :func:`column_distribution`).

    Attributes
    ----------
    column : str
        The column.
    numeric : bool
        Whether ``shares`` is a histogram (numeric column) or per-value shares (other kinds).
    shares : pandas.DataFrame
        Tidy: one row per (group, value) with ``group``, ``value`` (the category, or the bin as text),
        ``count`` and ``share`` (of the group's non-missing values for numerics, of all its rows otherwise);
        numeric columns add ``bin_start`` and ``bin_end``.
    quantiles : pandas.DataFrame or None
        Numeric columns: one row per group (index ``group``) with ``n``, ``missing``, ``mean``, ``q05``,
        ``q25``, ``median``, ``q75`` and ``q95``; None otherwise.
    """

    column: str
    numeric: bool
    shares: pd.DataFrame
    quantiles: pd.DataFrame | None


@dataclass(frozen=True, eq=False)
class BaselineResult:
    """A logistic regression's fairness on the test split (see :func:`baseline_classifier`).

    Attributes
    ----------
    by_group : pandas.DataFrame
        The per-group table of :func:`~fairgen_core.metrics.fairness.fairness_report` on the test split:
        counts ``tp, fp, tn, fn, n`` and rates.
    overall : dict
        ``balanced_accuracy``, ``accuracy``, ``tpr``, ``tnr`` and ``selection_rate`` on the test split.
    absolute : dict
        The paper's absolute fairness metrics (largest gaps between groups).
    label_names : tuple of str
        Names of the (unfavourable, favourable) labels.
    n_train, n_test : int
        Rows the model was fitted and scored on.
    features : tuple of str
        The columns it used.
    warnings : tuple of str
        When its balanced accuracy is near perfect (at least :data:`NEAR_PERFECT_ACCURACY`) because an input
        leaks the label: one message per such column, naming it and the fix.
    """

    by_group: pd.DataFrame
    overall: dict[str, float]
    absolute: dict[str, float]
    label_names: tuple[str, str]
    n_train: int
    n_test: int
    features: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def balanced_accuracy(self) -> float:
        """Balanced accuracy on the whole test split."""
        return self.overall["balanced_accuracy"]

    def confusion_matrices(self) -> dict[str, pd.DataFrame]:
        """Per group, its 2 × 2 confusion matrix of counts (see :func:`confusion_matrices`)."""
        return confusion_matrices(self.by_group, self.label_names)


def confusion_matrices(counts: pd.DataFrame, label_names: tuple[str, str]) -> dict[str, pd.DataFrame]:
    """Per group, its 2 × 2 confusion matrix of counts: index ``true`` and columns ``predicted``.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per group, indexed by the group's name, with columns ``tn``, ``fp``, ``fn``, ``tp``.
    label_names : tuple of str
        Names of the (unfavourable, favourable) labels, which label both axes (unfavourable first).

    Returns
    -------
    dict of str to pandas.DataFrame
        The matrices by group name, in the order of ``counts``.

    Examples
    --------
    >>> table = pd.DataFrame({"tn": [5], "fp": [1], "fn": [2], "tp": [7]}, index=["sex=f"])
    >>> confusion_matrices(table, ("bad", "good"))["sex=f"].to_numpy().tolist()
    [[5, 1], [2, 7]]
    """
    cells = counts[["tn", "fp", "fn", "tp"]].to_numpy(np.int64).reshape(-1, 2, 2)
    return {
        str(group): pd.DataFrame(matrix, index=pd.Index(label_names, name="true"),
                                 columns=pd.Index(label_names, name="predicted"))
        for group, matrix in zip(counts.index, cells)
    }


@dataclass(frozen=True, eq=False)
class DataAudit:
    """Everything :func:`audit_data` computes: :func:`group_rates`, :func:`~fairgen_core.data.spec.domain_table`,
    :func:`label_imbalance`, :func:`proxy_scores` and :func:`baseline_classifier`."""

    groups: pd.DataFrame
    domains: pd.DataFrame
    imbalance: Imbalance
    proxies: pd.DataFrame
    baseline: BaselineResult


# -- public functions ------------------------------------------------------------------------------
def audit_data(
    frame: pd.DataFrame, spec: DatasetSpec, *, schema: Schema | None = None, config: AuditConfig = AuditConfig()
) -> DataAudit:
    """Groups, P(group, label) imbalance, proxies and the baseline classifier in one call.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    spec : DatasetSpec
        Label and sensitive attributes.
    schema : Schema, optional
        Column kinds (default: inferred from ``frame``).
    config : AuditConfig
        Proxy threshold, binning and the baseline's seed.

    Returns
    -------
    DataAudit

    Raises
    ------
    FairGenError
        As the functions it calls.
    """
    assignment = assign_domains(frame, spec)
    schema = schema or infer_schema(frame)
    domains = domain_table(frame, spec)
    return DataAudit(
        groups=_group_rates(frame, spec, assignment),
        domains=domains,
        imbalance=_imbalance(domains, assignment.label_names),
        proxies=_proxy_scores(frame, spec, schema, config, assignment),
        baseline=_baseline(frame, spec, schema, config, assignment),
    )


def group_rates(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Size, share and base rate of every sensitive group.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    spec : DatasetSpec
        Label and sensitive attributes.

    Returns
    -------
    pandas.DataFrame
        One row per group with columns ``attribute`` (the sensitive column; ``a × b`` for the intersectional
        groups, listed only with several attributes), ``group``, ``n``, ``share`` (of the rows with a label
        and every sensitive value), ``n_favourable`` and ``base_rate`` P(y=1 | group).

    Raises
    ------
    SpecError
        If the label or a sensitive column is missing.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> df = pd.DataFrame({"y": [1, 0, 0, 1, 1], "s": ["a", "a", "b", "b", "b"]})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),))
    >>> group_rates(df, spec)[["group", "n", "base_rate"]].round(3).to_dict("list")
    {'group': ['s=a', 's=b'], 'n': [2, 3], 'base_rate': [0.5, 0.667]}
    """
    return _group_rates(frame, spec, assign_domains(frame, spec))


def label_imbalance(frame: pd.DataFrame, spec: DatasetSpec) -> Imbalance:
    """The P(group, label) imbalance of the data.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    spec : DatasetSpec
        Label and sensitive attributes.

    Returns
    -------
    Imbalance
        Smallest and largest (group, label) cells, base-rate gap and statistical parity difference.

    Raises
    ------
    SpecError
        If the label or a sensitive column is missing.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> df = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1], "s": ["a", "a", "a", "b", "b", "b"]})
    >>> imbalance = label_imbalance(df, DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),)))
    >>> imbalance.smallest.name, imbalance.ratio, round(imbalance.statistical_parity_difference, 3)
    ('s=a & y=1', 2.0, -0.333)
    """
    return _imbalance(domain_table(frame, spec), assign_domains(frame, spec).label_names)


def column_distribution(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    column: str,
    *,
    schema: Schema | None = None,
    config: AuditConfig = AuditConfig(),
) -> ColumnDistribution:
    """Distribution of one column in every group.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    spec : DatasetSpec
        Label and sensitive attributes (they define the groups).
    column : str
        The column to describe.
    schema : Schema, optional
        Column kinds (default: inferred); numeric columns get a histogram with ``config.bins`` equal-width
        bins shared by all groups and per-group quantiles, other kinds per-group shares of their
        ``config.max_categories`` most frequent values (plus ``(other)`` and ``(missing)``).
    config : AuditConfig
        Binning.

    Returns
    -------
    ColumnDistribution

    Raises
    ------
    SpecError
        If ``column``, the label or a sensitive column is not in ``frame``.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> df = pd.DataFrame({"y": [1, 0, 0, 1], "s": ["a", "a", "b", "b"], "c": ["u", "v", "v", "v"]})
    >>> dist = column_distribution(df, DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),)), "c")
    >>> dist.shares
      group value  count  share
    0   s=a     v      1    0.5
    1   s=a     u      1    0.5
    2   s=b     v      2    1.0
    3   s=b     u      0    0.0
    """
    require_column(frame, column, "audited")
    assignment = assign_domains(frame, spec)
    series = frame[column][assignment.valid]
    schema = schema or infer_schema(frame)
    groups = pd.Categorical.from_codes(assignment.group[assignment.valid], categories=list(assignment.group_names))
    if schema.kind(column) is ColumnKind.NUMERIC:
        return _numeric_distribution(column, numeric_values(series), groups, config.bins)
    return _categorical_distribution(column, series, groups, config.max_categories)


def proxy_scores(
    frame: pd.DataFrame, spec: DatasetSpec, *, schema: Schema | None = None, config: AuditConfig = AuditConfig()
) -> pd.DataFrame:
    """Mutual information between every other modelled column and the sensitive group, ranked.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    spec : DatasetSpec
        Label and sensitive attributes; the target is the intersectional group of each row.
    schema : Schema, optional
        Column kinds (default: inferred). Every modelled column (numeric, categorical, binary) except the
        label and the sensitive columns is scored; ID-like and constant columns are not.
    config : AuditConfig
        ``bins`` and ``proxy_threshold``.

    Returns
    -------
    pandas.DataFrame
        One row per column, strongest first, with columns :data:`PROXY_COLUMNS`: ``kind``, ``levels`` (the
        distinct codes the estimate used), ``mutual_information`` I(column; group) in nats, ``normalised``
        I / H(group) in [0, 1] (the uncertainty coefficient: the share of the group's entropy the column
        explains) and ``strong`` (``normalised >= config.proxy_threshold``).

    Raises
    ------
    FairGenError
        If the label or a sensitive column is missing, or all rows fall in one group.

    Notes
    -----
    Every column is scored as a discrete variable with scikit-learn's ``mutual_info_classif``
    (``discrete_features=True``, the exact plug-in estimate from the contingency table): categorical and
    binary columns by their values, numeric columns by their values when they have at most ``config.bins``
    of them, otherwise by ``config.bins`` quantile bins; a missing value is a level of its own. The k-NN
    estimator for continuous features assumes no ties, and census-style columns break it: on Adult it gives
    ``fnlwgt`` 0.17 nats with sex, because 94 % of the survey weights that repeat belong to one sex only (41 %
    would by chance), while the binned estimate (0.001 nats) reflects what a model can learn from the value.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> df = pd.DataFrame({"y": [1, 0] * 4, "s": ["a", "b"] * 4, "copy": ["a", "b"] * 4, "noise": [1, 1, 2, 2] * 2})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    >>> proxy_scores(df, spec)[["column", "normalised", "strong"]].round(3).to_dict("list")
    {'column': ['copy', 'noise'], 'normalised': [1.0, 0.0], 'strong': [True, False]}
    """
    assignment = assign_domains(frame, spec)
    return _proxy_scores(frame, spec, schema or infer_schema(frame), config, assignment)


def baseline_classifier(
    frame: pd.DataFrame, spec: DatasetSpec, *, schema: Schema | None = None, config: AuditConfig = AuditConfig()
) -> BaselineResult:
    """Fairness of a plain logistic regression trained on the data as it is.

    The rows are split as every run splits them (:func:`~fairgen_core.data.splits.default_split`: stratified by
    group × label, seed ``config.seed``); every modelled column except the label and the sensitive columns is
    encoded by a :class:`~fairgen_core.data.encoding.TabularEncoder` fitted on the train part; a scikit-learn
    ``LogisticRegression`` is fitted on the train part and predicts the test part.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    spec : DatasetSpec
        Label and sensitive attributes.
    schema : Schema, optional
        Column kinds (default: inferred).
    config : AuditConfig
        Seed and iteration bound.

    Returns
    -------
    BaselineResult
        Per-group counts and rates, overall metrics and absolute gaps on the test part.

    Raises
    ------
    FairGenError
        If a spec column is missing, no feature column is left, or the train part lacks a label class.
    """
    assignment = assign_domains(frame, spec)
    return _baseline(frame, spec, schema or infer_schema(frame), config, assignment)


# -- internals -------------------------------------------------------------------------------------
def _group_rates(frame: pd.DataFrame, spec: DatasetSpec, assignment: DomainAssignment) -> pd.DataFrame:
    group, label = assignment.group[assignment.valid], assignment.label[assignment.valid]
    k = len(spec.sensitive)
    levels = [
        (attribute.column, (group >> (k - 1 - i)) & 1, attribute.group_names(frame[attribute.column]))
        for i, attribute in enumerate(spec.sensitive)
    ]
    if k > 1:
        levels.append((" × ".join(spec.sensitive_columns), group, assignment.group_names))
    parts = []
    for attribute, ids, names in levels:
        n = np.bincount(ids, minlength=len(names))
        favourable = np.bincount(ids, weights=label, minlength=len(names)).astype(np.int64)
        parts.append(pd.DataFrame({
            "attribute": attribute, "group": list(names), "n": n, "share": n / max(len(group), 1),
            "n_favourable": favourable, "base_rate": _divide(favourable, n),
        }))
    return pd.concat(parts, ignore_index=True)


def _imbalance(domains: pd.DataFrame, label_names: tuple[str, str]) -> Imbalance:
    counts = domains[["n_unfavourable", "n_favourable"]].to_numpy()
    shares = domains[["p_unfavourable", "p_favourable"]].to_numpy()
    groups = [str(g) for g in domains.index]

    def cell(flat: int) -> DomainCell:
        g, y = divmod(flat, 2)
        return DomainCell(groups[g], label_names[y], int(counts[g, y]), float(shares[g, y]))

    rates = domains["base_rate"].to_numpy()
    defined = np.flatnonzero(~np.isnan(rates))
    if defined.size == 0:
        raise FairGenError("no row has a label and every sensitive value: there is nothing to audit.")
    low, high = defined[np.argmin(rates[defined])], defined[np.argmax(rates[defined])]
    return Imbalance(
        smallest=cell(int(np.argmin(counts))),
        largest=cell(int(np.argmax(counts))),
        balanced_share=1 / counts.size,
        lowest=(groups[low], float(rates[low])),
        highest=(groups[high], float(rates[high])),
        statistical_parity_difference=float(rates[0] - rates[-1]),
        disparate_impact=float(_divide(rates[:1], rates[-1:])[0]),
    )


def _numeric_distribution(column: str, values: pd.Series, groups: pd.Categorical, bins: int) -> ColumnDistribution:
    present = values.notna().to_numpy()
    numbers = values.to_numpy()
    edges = np.histogram_bin_edges(numbers[present], bins=bins) if present.any() else np.array([0.0, 1.0])
    labels = bin_labels(edges)
    histograms, summaries = [], []
    for name in groups.categories:
        member = np.asarray(groups == name)
        mine = numbers[member & present]
        counts = np.histogram(mine, bins=edges)[0]
        histograms.append(pd.DataFrame({"group": name, "value": labels, "bin_start": edges[:-1],
                                        "bin_end": edges[1:], "count": counts, "share": _divide(counts, mine.size)}))
        quantiles = np.quantile(mine, QUANTILES) if mine.size else np.full(len(QUANTILES), np.nan)
        summaries.append({"group": name, "n": mine.size, "missing": int(member.sum()) - mine.size,
                          "mean": mine.mean() if mine.size else np.nan, **dict(zip(QUANTILE_NAMES, quantiles))})
    return ColumnDistribution(column, True, pd.concat(histograms, ignore_index=True),
                              pd.DataFrame(summaries).set_index("group"))


def bin_labels(edges: np.ndarray) -> list[str]:
    """Readable names of the histogram bins between consecutive ``edges``: thousands separators, no exponents,
    and as many decimals as the narrowest bin needs to tell its edges apart.

    Parameters
    ----------
    edges : numpy.ndarray
        Increasing bin edges (``numpy.histogram_bin_edges``).

    Returns
    -------
    list of str
        ``"start – end"`` per bin (each bin holds its start, not its end, except the last).

    Examples
    --------
    >>> bin_labels(np.array([10_000.0, 59_500.0, 109_000.0]))
    ['10,000 – 59,500', '59,500 – 109,000']
    >>> bin_labels(np.array([0.0, 0.05, 0.1]))
    ['0 – 0.05', '0.05 – 0.1']
    >>> bin_labels(np.array([17.0, 20.5, 24.0]))
    ['17 – 20.5', '20.5 – 24']
    """
    widths = np.diff(edges)
    step = float(widths.min()) if widths.size and widths.min() > 0 else 1.0
    decimals = max(0, 1 - int(np.floor(np.log10(step))))
    text = [_readable_number(float(edge), decimals) for edge in edges]
    return [f"{start} – {end}" for start, end in itertools.pairwise(text)]


def _readable_number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def _categorical_distribution(
    column: str, series: pd.Series, groups: pd.Categorical, max_categories: int
) -> ColumnDistribution:
    text = series.astype(object).where(series.notna(), MISSING).map(str)
    top = text.value_counts().index[:max_categories]
    text = text.where(text.isin(top), OTHER)
    order = text.value_counts().index.tolist()
    counts = pd.crosstab(pd.Series(groups, index=text.index, name="group"), text).reindex(
        index=groups.categories, columns=order, fill_value=0
    )
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    tidy = counts.stack().rename("count").to_frame().join(shares.stack().rename("share")).reset_index()
    tidy.columns = ["group", "value", "count", "share"]
    tidy["group"] = tidy["group"].astype(str)
    return ColumnDistribution(column, False, tidy, None)


def _proxy_scores(
    frame: pd.DataFrame, spec: DatasetSpec, schema: Schema, config: AuditConfig, assignment: DomainAssignment
) -> pd.DataFrame:
    columns = schema.feature_names(exclude=(spec.label, *spec.sensitive_columns))
    target = assignment.group[assignment.valid]
    p = np.bincount(target) / max(target.size, 1)
    entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    if entropy == 0:
        raise FairGenError(
            "every row falls in one sensitive group, so no column can be a proxy for it: check the privileged "
            "values or thresholds."
        )
    if not columns:
        return pd.DataFrame({name: [] for name in PROXY_COLUMNS})
    codes = np.column_stack([
        _discrete_codes(frame[c][assignment.valid], schema.kind(c), config.bins) for c in columns
    ])
    mi = mutual_info_classif(codes, target, discrete_features=True)
    normalised = np.clip(mi / entropy, 0.0, 1.0)
    table = pd.DataFrame({
        "column": columns,
        "kind": [schema.kind(c).value for c in columns],
        "levels": [len(np.unique(codes[:, i])) for i in range(len(columns))],
        "mutual_information": mi,
        "normalised": normalised,
        "strong": normalised >= config.proxy_threshold,
    })
    return table.sort_values("mutual_information", ascending=False, kind="stable").reset_index(drop=True)


def _discrete_codes(series: pd.Series, kind: ColumnKind, bins: int) -> np.ndarray:
    """Integer codes of a column as a discrete variable (missing values get code -1)."""
    if kind is ColumnKind.NUMERIC:
        values = numeric_values(series)
        if values.nunique() > bins:
            return pd.qcut(values, bins, labels=False, duplicates="drop").fillna(-1).to_numpy(np.int64)
        series = values
    return pd.factorize(series)[0].astype(np.int64)


def _baseline(
    frame: pd.DataFrame, spec: DatasetSpec, schema: Schema, config: AuditConfig, assignment: DomainAssignment
) -> BaselineResult:
    features = schema.feature_names(exclude=(spec.label, *spec.sensitive_columns))
    if not features:
        raise FairGenError(
            "no column is left to train the baseline on besides the label and the sensitive attributes: "
            "set some columns' kind to numeric or categorical."
        )
    split = default_split(frame, spec, seed=config.seed)
    y_train, y_test = assignment.label[split.train], assignment.label[split.test]
    if np.unique(y_train).size < 2 or split.test.size == 0:
        raise FairGenError(
            f"the data is too small for a baseline: its train split has {split.train.size} row(s) and its test "
            f"split {split.test.size}, and both need rows of both labels."
        )
    train, test = frame.iloc[split.train], frame.iloc[split.test]
    encoder = TabularEncoder(schema, features).fit(train)
    model = LogisticRegression(max_iter=config.max_iter).fit(encoder.transform(train), y_train)
    report = fairness_report(y_test, model.predict(encoder.transform(test)), assignment.group[split.test],
                             assignment.group_names)
    return BaselineResult(
        by_group=report.by_group,
        overall=dict(report.overall),
        absolute=dict(report.absolute),
        label_names=assignment.label_names,
        n_train=int(split.train.size),
        n_test=int(split.test.size),
        features=features,
        warnings=_leak_warnings(train, spec, schema, features, report.overall["balanced_accuracy"]),
    )


def _leak_warnings(train: pd.DataFrame, spec: DatasetSpec, schema: Schema, features: tuple[str, ...],
                   balanced_accuracy: float) -> tuple[str, ...]:
    """Why a near-perfect baseline is not to be trusted: the inputs that leak the label (none below the bar)."""
    if balanced_accuracy < NEAR_PERFECT_ACCURACY:
        return ()
    leaks = detect_structure(train, label=spec.label, schema=schema).leaks
    return tuple(f"the baseline's balanced accuracy {balanced_accuracy:.3f} is near perfect because column "
                 f"'{leak.columns[0]}' leaks the label '{spec.label}' (balanced accuracy {leak.score:.3f} from it "
                 f"alone), so its fairness gaps look small for the wrong reason: set the kind of '{leak.columns[0]}' "
                 "to leak (or remove it) and audit again." for leak in leaks if leak.columns[0] in features)


def _divide(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.full(np.broadcast(numerator, denominator).shape, np.nan),
                     where=denominator > 0)
