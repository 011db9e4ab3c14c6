"""Write docs/reproduction.md from the experiment runner's results folders, beside the paper's Fig. 2 values.

Usage (after ``python -m fairgen_core experiment DATA --out build/experiments/DATA ...`` for each dataset)::

    python benchmarks/reproduction_table.py build/experiments docs/reproduction.md

Every function but :func:`dataset_section` and :func:`main` takes data frames and returns markdown, so the
document can be tested without running an experiment.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.metrics.paired import paired_differences  # noqa: E402  (after the path set-up above)
from fairgen_core.results.table import BASELINE, NO_TL, at_ratio  # noqa: E402
from fairgen_core.results.table import TRANSFER as OURS  # noqa: E402
from fairgen_core.results.table import TRANSFER_CHOSEN_RATIO as CHOSEN  # noqa: E402
from fairgen_core.results.table import TRANSFER_THRESHOLDS as THRESHOLDS  # noqa: E402

# Values read from the paper's Fig. 2 bars (approximate): EqOpp, AvgOdds, BalAccDiff, BalAcc.
PAPER: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "german": {"ours": (0.027, 0.046, 0.054, 0.71), "baseline": (0.057, 0.061, 0.062, 0.74)},
    "adult": {"ours": (0.017, 0.062, 0.059, 0.762), "baseline": (0.074, 0.074, 0.003, 0.761)},
}
SHORT = {"abs_equal_opportunity_difference": "EqOpp", "average_abs_odds_difference": "AvgOdds",
         "abs_balanced_accuracy_difference": "BalAccDiff", "balanced_accuracy": "BalAcc"}
PAPER_METRICS = ("abs_equal_opportunity_difference", "average_abs_odds_difference",
                 "abs_balanced_accuracy_difference", "balanced_accuracy")

BA, EQOPP, AVGODDS = "balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference"
#: Columns of the methods table (mean ± std over repetitions).
TABLE_METRICS: dict[str, str] = {BA: "balanced accuracy", EQOPP: "|EqOpp|", AVGODDS: "|AvgOdds|",
                                 "abs_balanced_accuracy_difference": "|BalAccDiff|",
                                 "abs_statistical_parity_difference": "|SPD|"}
#: Metrics whose paired difference against the Baseline is shown.
PAIRED_METRICS: tuple[str, ...] = (EQOPP, AVGODDS, BA)
HIGHLIGHT = 0.5
#: Goal: ours may lose at most this much mean paired balanced accuracy against the Baseline.
ACCURACY_TOLERANCE = 0.02
RULES: dict[str, str] = {
    "accuracy": "best validation balanced accuracy",
    "fair": "smallest validation |EqOpp| within 0.02 of the best validation balanced accuracy",
}
#: translation.csv columns shown, with their words.
TRANSLATION: dict[str, str] = {"target_rate": "target rate", "real_rate": "real rate", "ratio": "ratio (target/real)",
                               "label_kept": "label kept", "change_l1": "change L1",
                               "reconstruction_l1": "reconstruction L1"}


# -- formatting ------------------------------------------------------------------------------------
def _num(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.3f}".replace("-", "−")


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def _rows(frame: pd.DataFrame, method: str, highlight: float) -> pd.DataFrame:
    """A method's rows; for ours only those at the highlighted ratio."""
    rows = frame[frame["method"] == method]
    return rows[at_ratio(rows["ratio"], highlight)] if method == OURS else rows


def _rules(results: pd.DataFrame) -> list[str]:
    present = set(results["selection"])
    return [r for r in RULES if r in present] + sorted(present - set(RULES))


def method_order(methods: Iterable[str]) -> list[str]:
    """Ours first, then "transfer + thresholds" and "no TL", then the other methods alphabetically.

    Parameters
    ----------
    methods : iterable of str
        Method names (repeats allowed).

    Returns
    -------
    list of str
        Each method once, in table order.

    Examples
    --------
    >>> method_order(["reweighing", "baseline", "no TL", "transfer", "transfer"])
    ['transfer', 'no TL', 'baseline', 'reweighing']
    """
    present = set(methods)
    first = [m for m in (OURS, CHOSEN, THRESHOLDS, NO_TL) if m in present]
    return first + sorted(present - set(first))


def _mean_std(values: pd.Series, repetitions: int) -> str:
    values = values.dropna()
    if values.empty:
        return "—"
    std = float(values.std()) if len(values) > 1 else 0.0
    return f"{_num(float(values.mean()))} ± {std:.3f}" + (f" (n={len(values)})" if len(values) < repetitions else "")


def _paired_cell(paired: pd.DataFrame, metric: str) -> str:
    rows = paired[paired["metric"] == metric]
    if rows.empty or math.isnan(rows["difference"].iloc[0]):
        return "—"
    row = rows.iloc[0]
    if math.isnan(row["ci_low"]):
        return f"{_num(row['difference'])} ({row['verdict'] or 'too few repetitions'})"
    return f"{_num(row['difference'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}] {row['verdict']}".rstrip()


def _skip_reason(rows: pd.DataFrame) -> str | None:
    if rows["value"].notna().any():
        return None
    notes = [str(n) for n in rows["note"] if str(n)]
    return notes[0] if notes else "no values"


# -- sections --------------------------------------------------------------------------------------
def methods_table(results: pd.DataFrame, paired: pd.DataFrame, selection: str, highlight: float = HIGHLIGHT) -> str:
    """One selection rule's table: every method's test metrics and its paired differences to the Baseline.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy ``results.csv`` (``method, ratio, repetition, selection, metric, value, note``).
    paired : pandas.DataFrame
        :func:`~fairgen_core.metrics.paired.paired_differences` of ``results``.
    selection : str
        The selection rule whose rows are shown.
    highlight : float
        The fine-tuning ratio shown as ours.

    Returns
    -------
    str
        A markdown table, one row per method in :func:`method_order`; a method without any value shows
        ``skipped: <note>``.
    """
    res = results[results["selection"] == selection]
    pair = paired[paired["selection"] == selection]
    repetitions = int(res["repetition"].nunique())
    header = ["method", *TABLE_METRICS.values(), *(f"Δ {TABLE_METRICS[m]} vs Baseline" for m in PAIRED_METRICS)]
    lines = [_row(header), "|---" * len(header) + "|"]
    for method in method_order(res["method"]):
        rows = _rows(res, method, highlight)
        if rows.empty:
            continue
        label = {OURS: f"**transfer r={highlight:g}** (ours, paper's ratio)",
                 CHOSEN: "**transfer, ratio chosen on validation** (ours)"}.get(method, method)
        reason = _skip_reason(rows)
        if reason is not None:
            cells = [f"skipped: {reason.removeprefix('skipped: ')}", *["—"] * (len(header) - 2)]
        else:
            cells = [_mean_std(rows.loc[rows["metric"] == m, "value"], repetitions) for m in TABLE_METRICS]
            cells += ["—" if method == BASELINE else _paired_cell(_rows(pair, method, highlight), m)
                      for m in PAIRED_METRICS]
        lines.append(_row([label, *cells]))
    return "\n".join(lines)


def _means(results: pd.DataFrame, highlight: float) -> pd.DataFrame:
    """Mean balanced accuracy and |EqOpp| of every table row (method), NaN-skipping."""
    frames = [_rows(results, m, highlight).assign(method=m) for m in method_order(results["method"])]
    rows = pd.concat(frames)
    rows = rows[rows["metric"].isin([BA, EQOPP])]
    return rows.pivot_table(index="method", columns="metric", values="value", aggfunc="mean", dropna=False)


def goal_check(results: pd.DataFrame, paired: pd.DataFrame, selection: str, highlight: float = HIGHLIGHT,
               ours: str = OURS) -> str:
    """Whether ours meets the goal under one selection rule, with the numbers and what failed.

    The goal: ours (``ours``: transfer at ``highlight``, or :data:`CHOSEN`) is "fairer" than the Baseline on
    |EqOpp| and on |AvgOdds| (paired interval below zero), its mean paired balanced-accuracy difference is at least
    −:data:`ACCURACY_TOLERANCE`, and no method dominates it in mean balanced accuracy vs mean |EqOpp|
    (balanced accuracy ≥ ours and |EqOpp| ≤ ours, one of them strictly).

    Parameters
    ----------
    results, paired, selection, highlight
        As for :func:`methods_table`.
    ours : str
        The method judged.

    Returns
    -------
    str
        One markdown paragraph starting ``Goal (...): **met**`` or ``Goal (...): **not met**``.
    """
    res = results[results["selection"] == selection]
    ours_pair = _rows(paired[paired["selection"] == selection], ours, highlight).set_index("metric")
    means = _means(res, highlight)
    label = f"transfer r={highlight:g}" if ours == OURS else ours
    head = (f"Goal for {label} ({selection} rule; |EqOpp| and |AvgOdds| fairer than Baseline by the paired interval, "
            f"mean paired balanced-accuracy difference ≥ −{ACCURACY_TOLERANCE}, ours on the Pareto front of all "
            "methods in mean balanced accuracy vs |EqOpp|): ")
    if ours not in means.index or BASELINE not in means.index or means.loc[ours].isna().any():
        return head + f"**not checked** — no values of {label} or of the Baseline."
    failed, numbers = [], []
    for metric in PAIRED_METRICS:
        cell = _paired_cell(ours_pair.reset_index(), metric) if metric in ours_pair.index else "—"
        numbers.append(f"{TABLE_METRICS[metric]} {cell}")
        if metric != BA and (metric not in ours_pair.index or ours_pair.at[metric, "verdict"] != "fairer"):
            failed.append(f"{TABLE_METRICS[metric]} not fairer")
    ba_diff = float(ours_pair.at[BA, "difference"]) if BA in ours_pair.index else math.nan
    if not ba_diff >= -ACCURACY_TOLERANCE:
        failed.append(f"balanced accuracy difference {_num(ba_diff)} < −{ACCURACY_TOLERANCE}")
    ours_ba, ours_eq = float(means.at[ours, BA]), float(means.at[ours, EQOPP])
    dominators = [f"{m} ({_num(r[BA])}, {_num(r[EQOPP])})" for m, r in means.drop(index=ours).iterrows()
                  if r[BA] >= ours_ba and r[EQOPP] <= ours_eq and (r[BA] > ours_ba or r[EQOPP] < ours_eq)]
    if dominators:
        failed.append("not on the Pareto front")
    verdict = "**met**" if not failed else f"**not met** (failed: {'; '.join(failed)})"
    pareto = (f"dominated by {', '.join(dominators)}" if dominators
              else f"dominated by none of the {len(means) - 1} other methods")
    return (head + f"{verdict} — differences vs Baseline: {'; '.join(numbers)}. Ours (balanced accuracy "
            f"{_num(ours_ba)}, |EqOpp| {_num(ours_eq)}; Baseline {_num(means.at[BASELINE, BA])}, "
            f"{_num(means.at[BASELINE, EQOPP])}) is {pareto}.")


def translation_line(translation: pd.DataFrame) -> str:
    """Translation fidelity over repetitions (mean ± std of each :data:`TRANSLATION` column present).

    Parameters
    ----------
    translation : pandas.DataFrame
        ``translation.csv``: one row per repetition.

    Returns
    -------
    str
        One markdown line, empty if the table has none of the columns.
    """
    cells = {col: f"{text} {_mean_std(translation[col], 0)}" for col, text in TRANSLATION.items() if col in translation}
    if not cells:
        return ""
    parts = [cells.get(c) for c in ("target_rate", "real_rate", "ratio", "label_kept")]
    if "change_l1" in cells:
        parts.append(" vs ".join(c for c in (cells["change_l1"], cells.get("reconstruction_l1")) if c))
    return ("Translation fidelity (test rows, mean ± std over repetitions; rates judged by an independent "
            "domain probe): " + ", ".join(p for p in parts if p) + ".")


def sweep_table(results: pd.DataFrame, selection: str) -> str:
    """Mean of every table metric of ours at every fine-tuning ratio, under one selection rule.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy ``results.csv``.
    selection : str
        The selection rule whose rows are averaged.

    Returns
    -------
    str
        A markdown table, one row per ratio.
    """
    rows = results[(results["method"] == OURS) & (results["selection"] == selection)]
    sweep = rows.pivot_table(index="ratio", columns="metric", values="value", aggfunc="mean")
    metrics = [m for m in TABLE_METRICS if m in sweep.columns]
    lines = [_row(["ratio", *(TABLE_METRICS[m] for m in metrics)]), "|---" * (len(metrics) + 1) + "|"]
    lines += [_row([f"{ratio:.1f}", *(_num(v) for v in sweep.loc[ratio, metrics])]) for ratio in sweep.index]
    return "\n".join(lines)


def chosen_lines(results: pd.DataFrame, selection: str, highlight: float = HIGHLIGHT) -> str:
    """What every method chose (its note) in the first repetition, under one selection rule.

    Parameters
    ----------
    results, selection, highlight
        As for :func:`methods_table`.

    Returns
    -------
    str
        A heading line and one markdown bullet per method.
    """
    res = results[results["selection"] == selection]
    first = res[res["repetition"] == res["repetition"].min()]
    lines = [f"Chosen in repetition {first['repetition'].min()} ({selection} rule):", ""]
    for method in method_order(res["method"]):
        notes = [str(n) for n in _rows(first, method, highlight)["note"] if str(n)]
        lines.append(f"- {method}: {notes[0] if notes else '—'}")
    return "\n".join(lines)


def dataset_markdown(results: pd.DataFrame, paired: pd.DataFrame, translation: pd.DataFrame | None,
                     manifest: Mapping[str, Any]) -> str:
    """One dataset's section of the document.

    Parameters
    ----------
    results, paired : pandas.DataFrame
        ``results.csv`` and ``paired.csv`` of the folder.
    translation : pandas.DataFrame or None
        ``translation.csv``, if there is one.
    manifest : mapping
        ``manifest.json`` (its ``fingerprint.experiment.highlight_ratio`` and ``timings_s`` are used).

    Returns
    -------
    str
        Markdown: header, translation fidelity, per rule the methods table and the goal check, the paper's
        values, the ratio sweep, the wall time and the chosen candidates.
    """
    name = str(results["dataset"].iloc[0])
    highlight = float(manifest.get("fingerprint", {}).get("experiment", {}).get("highlight_ratio", HIGHLIGHT))
    rules = _rules(results)
    lines = [f"## {name} ({results['repetition'].nunique()} repetitions)", ""]
    if translation is not None and translation_line(translation):
        lines += [translation_line(translation), ""]
    for rule in rules:
        lines += [f"### Selection: {rule} ({RULES.get(rule, 'as recorded')})", "",
                  methods_table(results, paired, rule, highlight), ""]
        for ours in [m for m in (CHOSEN, OURS) if m in set(results["method"])]:
            lines += [goal_check(results, paired, rule, highlight, ours), ""]
    if name in PAPER:
        lines += ["Paper (Fig. 2, read from the bars): "
                  + "; ".join(f"{who}: " + ", ".join(f"{SHORT[m]} {v}" for m, v in zip(PAPER_METRICS, values))
                              for who, values in PAPER[name].items()), ""]
    sweep_rule = "fair" if "fair" in rules else rules[0]
    timings = manifest.get("timings_s", {})
    lines += [f"Fine-tuning ratio sweep (transfer, mean over repetitions, {sweep_rule} rule):", "",
              sweep_table(results, sweep_rule), "",
              f"Wall time: {sum(timings.values()):.0f} s of cell time "
              f"({', '.join(f'{k} {v:.0f} s' for k, v in list(timings.items())[:3])}, …).", ""]
    for rule in rules:
        lines += [chosen_lines(results, rule, highlight), ""]
    return "\n".join(lines)


def dataset_section(folder: Path) -> str:
    """Read one results folder and return its section (see :func:`dataset_markdown`)."""
    results = pd.read_csv(folder / "results.csv")
    results["note"] = results["note"].fillna("").astype(str)
    paired = (pd.read_csv(folder / "paired.csv") if (folder / "paired.csv").exists()
              else paired_differences(results))
    paired["verdict"] = paired["verdict"].fillna("").astype(str)
    translation = pd.read_csv(folder / "translation.csv") if (folder / "translation.csv").exists() else None
    return dataset_markdown(results, paired, translation, json.loads((folder / "manifest.json").read_text()))


def _command(folder: Path) -> str:
    """The experiment command that wrote ``folder`` (``--ratios`` only when not the default sweep)."""
    experiment = json.loads((folder / "manifest.json").read_text())["fingerprint"]["experiment"]
    ratios = [round(float(r), 6) for r in experiment["ratios"]]
    default = [round(r / 10, 6) for r in range(11)]
    extra = "" if ratios == default else " --ratios " + ",".join(f"{r:g}" for r in ratios)
    return (f"python -m fairgen_core experiment {folder.name} --out build/experiments/{folder.name} --reps "
            f"{experiment['repetitions']}{extra} --jobs 2")


def header(folders: list[Path], out: str) -> str:
    """The document's title, the commands that produced it and the definitions.

    Parameters
    ----------
    folders : list of pathlib.Path
        The results folders (their names are the dataset names; each has a ``manifest.json``).
    out : str
        Where the document is written.

    Returns
    -------
    str
        Markdown.
    """
    commands = [_command(p) for p in folders]
    return "\n".join([
        "# Reproduction of the paper's experiments", "",
        "Produced by the experiment runner (random 70/15/15 splits stratified by domain; repetition i uses seed "
        "i for the split, the generator and the classifiers; test-split metrics, mean ± std over repetitions):",
        "", "```", *commands, f"python benchmarks/reproduction_table.py build/experiments {out}", "```", "",
        "Ours (transfer r=0.5) = the classifier pre-trained on exactly balanced synthetic rows and fine-tuned "
        "on domain-balanced real rows plus their counterfactual synthetic pairs (the same row translated to "
        "the other group, label kept) at real:synthetic ratio r (50:50 is the paper's default; the sweep "
        "varies r from 0 to 1). 'transfer, ratio chosen' = the same with the ratio and epoch chosen on "
        "validation by the selection rule among all swept ratios: the product's default protocol. 'transfer + "
        "thresholds' = ours at r=0.5 with group-specific decision thresholds fitted on the validation rows. "
        "'no TL' = the same network on domain-balanced real rows without pre-training. 'down-sampled TL' = "
        "ours fine-tuned on real rows down-sampled to the smallest domain. Baseline = the same network on the "
        "real rows as they are. group_thresholds = the Baseline with group-specific thresholds; the other "
        "methods are the usual pre-, in- and "
        "post-processing mitigations. All methods share the split and the network.", "",
        "Every method's candidates (epochs, repair levels, thresholds, ...) are chosen on the validation split by "
        "the same rule, and each rule has its own table: 'accuracy' takes the best validation balanced accuracy; "
        "'fair' takes the smallest validation |equal opportunity difference| among the candidates within 0.02 "
        "of the best validation balanced accuracy.", "",
        "Paired statistics: Δ columns are differences method − Baseline on the same splits (paired by "
        "repetition), averaged over repetitions, with a 95 % percentile bootstrap interval over repetitions; "
        "'fairer' only when the interval of an absolute gap lies entirely below zero ('less fair' entirely "
        "above), 'more' / 'less accurate' likewise for balanced accuracy, otherwise 'no detectable difference'.",
        "",
        "Translation fidelity: on each repetition's test rows, the share of counterfactual translations that an "
        "independent domain probe (fitted on the training rows) assigns to their target domain, beside the "
        "share of real rows it assigns to their own domain, and their ratio; 'label kept' is the share of "
        "label-keeping translations whose label a label probe still predicts; change L1 (|translation − row|) "
        "is compared with the reconstruction L1 of the same row.", ""])


def main(results_root: str | Path, out: str | Path) -> None:
    """Write the reproduction document for every results folder under ``results_root``.

    Parameters
    ----------
    results_root : str or pathlib.Path
        Folder whose sub-folders hold ``results.csv`` (one per dataset, processed in sorted order).
    out : str or pathlib.Path
        The markdown file written; a hand-written section of it headed :data:`FINDINGS` (and everything after it)
        is kept.
    """
    folders = sorted(p.parent for p in Path(results_root).glob("*/results.csv"))
    Path(out).write_text("\n".join([header(folders, str(out)), *(dataset_section(p) for p in folders)])
                         + kept_findings(Path(out)))


#: The heading of the hand-written part of the document, which regenerating the tables keeps.
FINDINGS = "## Findings"


def kept_findings(path: Path) -> str:
    """The hand-written findings of an earlier version of the document (from :data:`FINDINGS` on), or ``""``."""
    text = path.read_text() if path.exists() else ""
    start = text.find("\n" + FINDINGS)
    return "" if start < 0 else "\n" + text[start:].lstrip("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
