"""Write docs/reproduction.md from the experiment runner's results folders, beside the paper's Fig. 2 values.

Usage (after ``python -m fairgen_core experiment DATA --out build/experiments/DATA ...`` for each dataset)::

    python benchmarks/reproduction_table.py build/experiments docs/reproduction.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.charts import METRIC_TITLES, summarise  # noqa: E402  (after the path set-up above)

# Values read from the paper's Fig. 2 bars (approximate): EqOpp, AvgOdds, BalAccDiff, BalAcc.
PAPER: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "german": {"ours": (0.027, 0.046, 0.054, 0.71), "baseline": (0.057, 0.061, 0.062, 0.74)},
    "adult": {"ours": (0.017, 0.062, 0.059, 0.762), "baseline": (0.074, 0.074, 0.003, 0.761)},
}
SHORT = {"abs_equal_opportunity_difference": "EqOpp", "average_abs_odds_difference": "AvgOdds",
         "abs_balanced_accuracy_difference": "BalAccDiff", "balanced_accuracy": "BalAcc"}
PAPER_METRICS = ("abs_equal_opportunity_difference", "average_abs_odds_difference",
                 "abs_balanced_accuracy_difference", "balanced_accuracy")
HIGHLIGHT = 0.5


def _cell(summary: pd.DataFrame, method: str, metric: str, ratio: float | None = None) -> str:
    rows = summary[(summary["method"] == method) & (summary["metric"] == metric)]
    rows = rows[(rows["ratio"] - ratio).abs() < 1e-9] if ratio is not None else rows[rows["ratio"].isna()]
    if rows.empty:
        return "—"
    return f"{rows['mean'].iloc[0]:.3f} ± {rows['std'].iloc[0]:.3f}"


def dataset_section(folder: Path) -> str:
    """One dataset's table (every method, every metric) and the goal check."""
    results = pd.read_csv(folder / "results.csv", keep_default_na=False, na_values=["", "nan", "NaN"])
    manifest = json.loads((folder / "manifest.json").read_text())
    summary = summarise(results)
    name = str(results["dataset"].iloc[0])
    reps = int(results["repetition"].nunique())
    methods = ["transfer", "no TL", *sorted(set(results["method"]) - {"transfer", "no TL"})]
    lines = [f"## {name} ({reps} repetitions)", "",
             "| method | " + " | ".join(METRIC_TITLES[m].replace("|", "\\|") for m in METRIC_TITLES) + " |",
             "|---|" + "---|" * len(METRIC_TITLES)]
    for method in methods:
        ratio = HIGHLIGHT if method == "transfer" else None
        label = f"**transfer r={HIGHLIGHT}** (ours)" if method == "transfer" else method
        lines.append(f"| {label} | " + " | ".join(_cell(summary, method, m, ratio) for m in METRIC_TITLES) + " |")
    notes = results.loc[results["note"].astype(str).str.len() > 0, ["method", "note"]].drop_duplicates("method")
    lines += [""] + [f"- {row.method}: {row.note}" for row in notes.itertuples()]
    if name in PAPER:
        lines += ["", "Paper (Fig. 2, read from the bars): "
                  + "; ".join(f"{who}: " + ", ".join(f"{SHORT[m]} {v}"
                                                      for m, v in zip(PAPER_METRICS, values))
                              for who, values in PAPER[name].items())]
    lines += ["", _goal(summary), "", "Fine-tuning ratio sweep (transfer, mean over repetitions):", "",
              _sweep_table(summary), "", f"Wall time: {sum(manifest['timings_s'].values()):.0f} s of cell time "
              f"({', '.join(f'{k} {v:.0f} s' for k, v in list(manifest['timings_s'].items())[:3])}, …).", ""]
    return "\n".join(lines)


def _mean(summary: pd.DataFrame, method: str, metric: str, ratio: float | None = None) -> float:
    rows = summary[(summary["method"] == method) & (summary["metric"] == metric)]
    rows = rows[(rows["ratio"] - ratio).abs() < 1e-9] if ratio is not None else rows[rows["ratio"].isna()]
    return float(rows["mean"].iloc[0]) if len(rows) else float("nan")


def _goal(summary: pd.DataFrame) -> str:
    ours = {m: _mean(summary, "transfer", m, HIGHLIGHT) for m in PAPER_METRICS}
    base = {m: _mean(summary, "baseline", m) for m in PAPER_METRICS}
    fairer = ours[PAPER_METRICS[0]] < base[PAPER_METRICS[0]] and ours[PAPER_METRICS[1]] < base[PAPER_METRICS[1]]
    accurate = ours["balanced_accuracy"] >= base["balanced_accuracy"] - 0.02
    verdict = "**met**" if fairer and accurate else "**not met**"
    dominated_by = [method for method in sorted(set(summary["method"]) - {"transfer", "no TL"})
                    if _mean(summary, method, "balanced_accuracy") >= ours["balanced_accuracy"]
                    and _mean(summary, method, PAPER_METRICS[0]) <= ours[PAPER_METRICS[0]]]
    pareto = ("on the Pareto front of the comparison methods (balanced accuracy vs |EqOpp|)" if not dominated_by
              else f"dominated on balanced accuracy and |EqOpp| by {', '.join(dominated_by)}")
    return (f"Goal (lower mean |EqOpp| and |AvgOdds| than Baseline, balanced accuracy at most 0.02 lower): {verdict}"
            f" — ours |EqOpp| {ours[PAPER_METRICS[0]]:.3f} vs {base[PAPER_METRICS[0]]:.3f}, |AvgOdds| "
            f"{ours[PAPER_METRICS[1]]:.3f} vs {base[PAPER_METRICS[1]]:.3f}, balanced accuracy "
            f"{ours['balanced_accuracy']:.3f} vs {base['balanced_accuracy']:.3f}; ours is {pareto}.")


def _sweep_table(summary: pd.DataFrame) -> str:
    sweep = summary[summary["method"] == "transfer"].pivot_table(index="ratio", columns="metric", values="mean")
    sweep = sweep[[m for m in METRIC_TITLES if m in sweep.columns]].rename(
        columns={m: t.replace("|", "\\|") for m, t in METRIC_TITLES.items()})
    header = "| ratio | " + " | ".join(sweep.columns) + " |\n|---|" + "---|" * len(sweep.columns)
    rows = [f"| {ratio:.1f} | " + " | ".join(f"{v:.3f}" for v in values) + " |"
            for ratio, values in zip(sweep.index, sweep.to_numpy())]
    return "\n".join([header, *rows])


def main(results_root: str, out: str) -> None:
    """Write the reproduction document for every results folder under ``results_root``."""
    folders = sorted(p.parent for p in Path(results_root).glob("*/results.csv"))
    head = ["# Reproduction of the paper's experiments", "",
            "Produced by the experiment runner (random 70/15/15 splits stratified by domain; repetition i uses seed "
            "i for the split, the generator and the classifiers; test-split metrics, mean ± std):", "", "```",
            *[f"python -m fairgen_core experiment {p.name} --out build/experiments/{p.name} --reps "
              f"{json.loads((p / 'manifest.json').read_text())['fingerprint']['experiment']['repetitions']} --jobs 2"
              for p in folders],
            f"python benchmarks/reproduction_table.py build/experiments {out}", "```", "",
            "Ours = the classifier pre-trained on exactly balanced synthetic rows and fine-tuned on domain-balanced "
            "real rows plus their synthetic pairs at 50:50 (the paper's default). 'no TL' = the same network on "
            "domain-balanced real rows without pre-training. Baseline = the same network on the real rows as "
            "they are. All methods share the split and the network; choices are made on the validation split.", ""]
    Path(out).write_text("\n".join(head + [dataset_section(p) for p in folders]))


if __name__ == "__main__":
    main(*sys.argv[1:3])
