"""The audit of a model: per-group rates, differences with intervals and verdicts, calibration, in words.

:func:`audit_model` reports, per group (the intersectional groups of
:func:`fairgen_core.data.spec.assign_domains`), the confusion counts, selection rate, TPR, FPR, FNR, precision and
balanced accuracy, and for scores the Brier score and a reliability curve; and the differences of every group
against the reference, the privileged group (the last index: privileged on every sensitive attribute), with more
than two groups also the largest gap between any two groups, each with a bootstrap interval and a verdict
(:mod:`~fairgen_core.model_audit.differences`). With two groups that is the unprivileged group (index 0) against
the privileged one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairgen_core.data.spec import DatasetSpec, assign_domains
from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import cell_counts, confusion_rates
from fairgen_core.model_audit.calibration import brier_scores, reliability_curve
from fairgen_core.model_audit.config import ModelAuditConfig
from fairgen_core.model_audit.differences import (
    VS_REFERENCE,
    bootstrap_counts,
    comparison_text,
    differences_table,
)
from fairgen_core.model_audit.inputs import ModelInput, aligned_values
from fairgen_core.model_audit.thresholds import model_decisions
from fairgen_core.model_audit.verdicts import DISPARITY, INSUFFICIENT, WITHIN

#: Columns of :attr:`ModelAudit.per_group` (``brier`` for scores only).
PER_GROUP_COLUMNS = (
    "group", "n", "positives", "negatives", "tp", "fp", "tn", "fn", "selection_rate", "tpr", "fpr", "fnr",
    "precision", "balanced_accuracy",
)


@dataclass(frozen=True, eq=False)
class ModelAudit:
    """The audit of one model (see :func:`audit_model`).

    Attributes
    ----------
    model : str
        The model's name.
    per_group : pandas.DataFrame
        One row per group (:data:`PER_GROUP_COLUMNS`, plus ``brier`` for scores); rates with a zero
        denominator are NaN.
    differences : pandas.DataFrame
        :data:`DIFFERENCE_COLUMNS`: for every group other than the privileged (reference) one, one row per
        metric of :data:`DIFFERENCE_METRICS` comparing it with the reference (``comparison`` "vs reference"),
        then with more than two groups one "largest gap" row per metric (see
        :mod:`~fairgen_core.model_audit.differences`). Each row has the compared ``group`` and ``reference``,
        the value, the bootstrap interval, the tolerance (for disparate impact the lowest acceptable ratio),
        the verdict and a note (why the evidence is insufficient and how many rows would help; the direction
        of a disparity; empty otherwise). With two groups: one row per metric.
    calibration : pandas.DataFrame or None
        For scores: the reliability curve per group (:data:`CALIBRATION_COLUMNS`, non-empty bins only).
    unprivileged, privileged : str
        The group unprivileged on every sensitive attribute (the first group) and the privileged group (the
        reference of every difference).
    is_score : bool
        Whether the model gave scores.
    thresholds : tuple of float or None
        For scores: the threshold of each group; None for decisions.
    n_rows : int
        Rows audited (those with a label and every sensitive value).
    confidence : float
        Coverage of the intervals.
    """

    model: str
    per_group: pd.DataFrame
    differences: pd.DataFrame
    calibration: pd.DataFrame | None
    unprivileged: str
    privileged: str
    is_score: bool
    thresholds: tuple[float, ...] | None
    n_rows: int
    confidence: float

    def to_dict(self) -> dict:
        """The audit as JSON-ready built-in types (non-finite numbers become None).

        Returns
        -------
        dict
            ``model``, ``is_score``, ``thresholds``, ``n_rows``, ``confidence``, ``unprivileged``,
            ``privileged``, and the tables ``per_group``, ``differences``, ``calibration`` as lists of
            records (``calibration`` None for decisions), plus ``summary``.
        """
        return {
            "model": self.model,
            "is_score": self.is_score,
            "thresholds": list(self.thresholds) if self.thresholds is not None else None,
            "n_rows": self.n_rows,
            "confidence": self.confidence,
            "unprivileged": self.unprivileged,
            "privileged": self.privileged,
            "per_group": _records(self.per_group),
            "differences": _records(self.differences),
            "calibration": _records(self.calibration) if self.calibration is not None else None,
            "summary": self.summary(),
        }

    @property
    def several_groups(self) -> bool:
        """Whether more than two groups are compared (then :attr:`differences` has a row per group and metric)."""
        return len(self.per_group) > 2

    @property
    def headline(self) -> pd.DataFrame:
        """The differences of :attr:`unprivileged` vs :attr:`privileged`: one row per metric, in metric order.

        With two groups this is the whole of :attr:`differences`; with more, the first group's rows (the charts
        draw these, the tables every row).
        """
        rows = self.differences[(self.differences["comparison"] == VS_REFERENCE)
                                & (self.differences["group"] == self.unprivileged)]
        return rows.reset_index(drop=True)

    @property
    def decision_rule(self) -> str:
        """How decisions were made: ``"decisions"``, ``"scores, threshold 0.5"`` or ``"scores, group thresholds …"``."""
        if self.thresholds is None:
            return "decisions"
        if len(set(self.thresholds)) == 1:
            return f"scores, threshold {self.thresholds[0]:g}"
        return "scores, group thresholds " + ", ".join(f"{t:g}" for t in self.thresholds)

    def summary(self) -> str:
        """One plain-language paragraph: what was compared and each metric's verdict.

        Returns
        -------
        str
            E.g. "Model 'score' (scores, threshold 0.5) on 1,000 rows, 'sex=Female' (unprivileged) compared
            with 'sex=Male' (privileged). Disparity: statistical parity difference -0.210 (95% interval -0.250
            to -0.170), the selection rate is lower for 'sex=Female' than for 'sex=Male'. Within tolerance: ...".
            With more than two groups every group is compared with the privileged one and each difference
            names its pair ("statistical parity difference 'sex=F & age=young' vs 'sex=M & age=old' ...",
            "... largest gap: 'A' vs 'B' ..."). Notes on insufficient evidence (how many rows would help) stay
            in :attr:`differences`.
        """
        if self.several_groups:
            compared = (f"each of the {len(self.per_group)} groups compared with '{self.privileged}' (privileged, "
                        "the reference), and the largest gap between any two groups")
        else:
            compared = f"'{self.unprivileged}' (unprivileged) compared with '{self.privileged}' (privileged)"
        sentences = [f"Model '{self.model}' ({self.decision_rule}) on {self.n_rows:,} rows, {compared}."]
        for verdict in (DISPARITY, WITHIN, INSUFFICIENT):
            rows = self.differences[self.differences["verdict"] == verdict]
            if not rows.empty:
                described = "; ".join(self._describe(row, with_note=verdict == DISPARITY)
                                      for row in rows.itertuples(index=False))
                sentences.append(f"{verdict.capitalize()}: {described}.")
        if (self.differences["verdict"] == INSUFFICIENT).any():
            sentences.append("Insufficient evidence means the interval spans a tolerance or a group has too few cases; "
                             "the notes say how many rows would settle each.")
        return " ".join(sentences)

    def _describe(self, row: tuple, *, with_note: bool) -> str:
        text = row.metric.replace("_", " ")
        if self.several_groups:
            text += " " + comparison_text(row.comparison, row.group, row.reference)
        text += f" {_fmt(row.value)}"
        if np.isfinite(row.ci_low) or np.isfinite(row.ci_high):
            text += f" ({self.confidence:.0%} interval {_fmt(row.ci_low)} to {_fmt(row.ci_high)})"
        return text + (f", {row.note}" if with_note and row.note else "")


def audit_model(
    frame: pd.DataFrame, spec: DatasetSpec, model: ModelInput, config: ModelAuditConfig = ModelAuditConfig()
) -> ModelAudit:
    """Audit one model's decisions or scores for group fairness.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, with the label and sensitive columns of ``spec``.
    spec : DatasetSpec
        Label, favourable values and sensitive attributes; the groups are their intersections. Rows with a
        missing label or sensitive value are left out.
    model : ModelInput
        The model's values, one per row of ``frame`` (see :func:`model_inputs`).
    config : ModelAuditConfig
        Threshold(s), bootstrap, tolerances.

    Returns
    -------
    ModelAudit
        Per-group table, differences with intervals and verdicts (see
        :mod:`~fairgen_core.model_audit.differences`), calibration.

    Raises
    ------
    FairGenError
        If the values do not have one entry per row or are not 0/1 decisions / scores in [0, 1], the group
        thresholds do not give one per group, or no row has a label and every sensitive value.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"y": rng.integers(0, 2, 2000), "sex": rng.choice(["f", "m"], 2000)})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("m",)),))
    >>> audit = audit_model(frame, spec, ModelInput("copy", frame["y"].to_numpy(), is_score=False))
    >>> row = audit.differences.set_index("metric").loc["equal_opportunity_difference"]
    >>> float(row["value"]), row["verdict"]
    (0.0, 'within tolerance')
    """
    return audit_models(frame, spec, [model], config)[0]


def audit_models(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    models: Sequence[ModelInput],
    config: ModelAuditConfig = ModelAuditConfig(),
) -> list[ModelAudit]:
    """Audit several models on the same rows (see :func:`audit_model`).

    Parameters
    ----------
    frame, spec, config
        As for :func:`audit_model`; the groups are assigned once.
    models : sequence of ModelInput
        The models, each audited with its own generator seeded with ``config.seed`` (so a model's
        intervals do not depend on the others).

    Returns
    -------
    list of ModelAudit
        One per model, in order.
    """
    assignment = assign_domains(frame, spec)
    valid = assignment.valid
    if not valid.any():
        raise FairGenError(f"no row has both a label ('{spec.label}') and every sensitive value "
                           f"({', '.join(spec.sensitive_columns)}): fill in those columns.")
    names = assignment.group_names
    if config.group_thresholds is not None and len(config.group_thresholds) != len(names):
        raise FairGenError(f"give one threshold per group: {len(config.group_thresholds)} given for the "
                           f"{len(names)} groups {', '.join(map(repr, names))}.")
    y, group = assignment.label[valid], assignment.group[valid]
    audits = []
    for model in models:
        values = aligned_values(model, len(frame))[valid]
        audits.append(_audit_rows(model.name, y, values, group, names, model.is_score, config))
    return audits


def _audit_rows(
    name: str,
    y: np.ndarray,
    values: np.ndarray,
    group: np.ndarray,
    names: tuple[str, ...],
    is_score: bool,
    config: ModelAuditConfig,
) -> ModelAudit:
    n_groups = len(names)
    decisions, thresholds = model_decisions(values, group, n_groups, is_score=is_score, config=config)
    counts = cell_counts(y, decisions, group, n_groups)
    per_group = _per_group(counts, names)
    calibration = None
    if is_score:
        per_group["brier"] = brier_scores(y, values, group, n_groups)
        calibration = reliability_curve(y, values, group, names, config.calibration_bins)
    draws = bootstrap_counts(counts, config.bootstrap, np.random.default_rng(config.seed))
    differences = differences_table(counts, draws, names, config)
    return ModelAudit(
        model=name, per_group=per_group, differences=differences, calibration=calibration,
        unprivileged=names[0], privileged=names[-1], is_score=is_score, thresholds=thresholds,
        n_rows=len(y), confidence=config.confidence,
    )


def _per_group(counts: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    rates = confusion_rates(counts)
    tn, fp, fn, tp = counts[:, 0, 0], counts[:, 0, 1], counts[:, 1, 0], counts[:, 1, 1]
    return pd.DataFrame({
        "group": list(names), "n": tp + fp + tn + fn, "positives": tp + fn, "negatives": tn + fp,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        **{column: rates[column] for column in PER_GROUP_COLUMNS[8:]},
    })


def _records(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts of built-in types; NaN and infinities become None."""
    records = []
    for row in table.to_dict(orient="records"):
        records.append({k: _json_value(v) for k, v in row.items()})
    return records


def _json_value(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "undefined"
    return "∞" if math.isinf(value) else f"{value:.3f}"
