"""Command line: ``python -m fairgen_core SUBCOMMAND ...``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fairgen_core.classifier.selection import SELECTION_RULES
from fairgen_core.classifier.sweep import ratio_sweep
from fairgen_core.config import (
    DEFAULT_MAX_AGE_DAYS,
    DEFAULT_MAX_GB,
    MAX_AGE_ENV,
    MAX_GB_ENV,
    NUMERIC_ENCODINGS,
    PAIR_PROTOCOLS,
    RAY_ADDRESS_ENV,
    ClassifierConfig,
    EncoderConfig,
    GeneratorConfig,
    RetentionPolicy,
    bound_from_env,
    default_runs_base,
    parse_bound,
    ray_address,
)
from fairgen_core.data.datasets import BUILTIN_DATASETS
from fairgen_core.data.io import ReadLimits, read_csv
from fairgen_core.data.rules import ROLE_WORDS, Structure
from fairgen_core.data.schema import Schema
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.spec import (
    DatasetSpec,
    SensitiveAttribute,
    assign_domains,
    domain_table,
    infer_favourable,
    require_column,
    validate_spec,
)
from fairgen_core.data.splits import default_split
from fairgen_core.data.structure import detect_structure, exclude_leaks
from fairgen_core.devices import apply_thread_budget, resolve_device
from fairgen_core.errors import FairGenError, PredictionError, SpecError
from fairgen_core.export import csv_bytes, write_csv
from fairgen_core.generator import EpochReport, FairGenerator, fit_generator
from fairgen_core.generator.evaluation import assess_quality, assess_translation, default_sigma
from fairgen_core.model_audit import (
    MARK_AS_SCORES,
    MATCH_BY_KEY,
    RESCALE_SCORES,
    ModelAudit,
    ModelAuditConfig,
    RecordedModels,
    audit_models,
    comparison_text,
    join_predictions,
    model_inputs,
    record_models,
)
from fairgen_core.progress import ProgressBar
from fairgen_core.results.evidence import run_validity
from fairgen_core.results.metrics_export import metrics_json, metrics_table, model_audit_json
from fairgen_core.results.report import build_report, model_audit_html
from fairgen_core.results.table import SWEEP_METRICS, at_ratio, mean_std_column, summarise
from fairgen_core.results.text import interval_text, tolerance_text
from fairgen_core.runs import layout
from fairgen_core.runs.executor import ExecutorConfig, run_one
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.retention import prune_runs
from fairgen_core.runs.store import RunDir, frame_hash, new_manifest
from fairgen_core.runs.tasks import PartialTable, TaskProgress

if TYPE_CHECKING:
    from fairgen_core.experiment import CellDone


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fairgen_core`` command."""
    parser = argparse.ArgumentParser(
        prog="python -m fairgen_core",
        description="FairGen: audit tabular data for group fairness and generate balanced synthetic data.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    datasets = commands.add_parser("datasets", help="list the built-in datasets")
    datasets.add_argument("--json", action="store_true", help="print JSON instead of a table")
    datasets.set_defaults(handler=_datasets)

    inspect = commands.add_parser(
        "inspect",
        help="print the inferred schema, the data's structure and the group × label domain table",
        description="Print the inferred schema, the structure every row obeys (one-hot groups, complements, "
        "derived columns, numeric bounds, identifiers) with its evidence, columns that leak the label or a "
        "sensitive attribute, and the domain table (counts of every group × label cell, base rates per group). "
        "Without --label/--sensitive a built-in dataset uses the paper's choice. A leaking column shows kind 'leak' "
        "(left out of the models' inputs) unless --keep-leak keeps it.",
    )
    _add_data_arguments(inspect)
    _add_keep_leak(inspect)
    inspect.add_argument("--json", action="store_true", help="print JSON instead of tables")
    inspect.set_defaults(handler=_inspect)

    fit = commands.add_parser("fit", help="train the VAE-GAN translator and write a run folder",
                              description="Train the generator on the training split (70%%, stratified by "
                              "domain) with early stopping on the validation split; write RUN_DIR. Columns that "
                              "leak the label or a sensitive attribute are left out of the model's inputs unless "
                              "--keep-leak keeps them.")
    _add_data_arguments(fit)
    _add_keep_leak(fit, " (--resume keeps the run's)")
    fit.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder to write (model, manifest, log)")
    defaults = GeneratorConfig()
    fit.add_argument("--epochs", type=int, default=defaults.epochs, help=f"at most (default {defaults.epochs})")
    fit.add_argument("--batch-size", type=int, default=defaults.batch_size)
    fit.add_argument("--lr", type=float, default=defaults.lr)
    fit.add_argument("--patience", type=int, default=defaults.patience,
                     help="epochs without validation improvement before stopping (0: never)")
    fit.add_argument("--adversarial", choices=["gan", "wgan-gp"], default=defaults.adversarial)
    fit.add_argument("--critic-steps", type=int, default=defaults.critic_steps)
    fit.add_argument("--device", choices=["auto", "cpu", "cuda"], default=defaults.device)
    fit.add_argument("--seed", type=int, default=defaults.seed)
    fit.add_argument("--numeric-encoding", choices=NUMERIC_ENCODINGS, default=defaults.encoding.numeric,
                     help=f"how numeric columns are encoded (default {defaults.encoding.numeric}; max-abs: the "
                     "paper's)")
    fit.add_argument("--point-mass", type=float, default=defaults.encoding.point_mass or 0.0, metavar="SHARE",
                     help="a numeric value holding at least this share of its column gets its own indicator "
                     f"(default {defaults.encoding.point_mass or 0}; 0: never)")
    fit.add_argument("--no-fold-one-hot", dest="fold_one_hot", action="store_false",
                     help="model every member of a one-hot group as a binary column of its own (the paper's) instead "
                     "of the group as one categorical")
    fit.add_argument("--no-calibration", dest="calibrated_sampling", action="store_false",
                     help="sample the decoder's own output, as the paper does, instead of rows calibrated to each "
                     "domain's training marginals")
    fit.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR")
    fit.set_defaults(handler=_fit)

    sample = commands.add_parser("sample", help="write balanced synthetic rows from a run to CSV")
    sample.add_argument("run", metavar="RUN_DIR")
    size = sample.add_mutually_exclusive_group(required=True)
    size.add_argument("--n", type=int, help="total rows, split equally over the (group, label) domains")
    size.add_argument("--per-domain", type=int, help="rows in every domain")
    sample.add_argument("--out", required=True, metavar="FILE.csv")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    sample.set_defaults(handler=_sample)

    quality = commands.add_parser("quality", help="column shapes, pair trends, detection, train-on-synthetic "
                                  "efficacy and its fairness (good / fair / poor), per domain; FID against the "
                                  "real+noise baseline, privacy, validity (rows keeping the data's structure)")
    quality.add_argument("run", metavar="RUN_DIR")
    quality.add_argument("--sigma", type=float, help="noise of the baseline (default: the paper's for the "
                         "dataset, else 0.25)")
    quality.add_argument("--seed", type=int, default=0)
    quality.add_argument("--pairs", choices=PAIR_PROTOCOLS, default="counterfactual",
                         help="target rule of the translations judged for translation fidelity")
    quality.add_argument("--json", action="store_true")
    quality.set_defaults(handler=_quality)
    _add_experiment_parser(commands)
    _add_run_table_parsers(commands)
    _add_report_parser(commands)
    _add_audit_parser(commands)
    _add_prune_parser(commands)
    return parser


def _add_prune_parser(commands: argparse._SubParsersAction) -> None:
    prune = commands.add_parser(
        "prune", help="delete old run folders (by age, then by total size), never active ones",
        description="Delete the run folders under the runs base (ROOT/WORKSPACE/RUN and ROOT/RUN) last modified "
        "more than --max-age-days ago, then the least recently modified ones while all runs take more than "
        "--max-gb. Runs that are training, queued or running an analysis, and runs modified in the last 10 "
        "minutes, are kept. A bound of 0 or 'none' is no bound.")
    prune.add_argument("--root", metavar="DIR", help="the runs base (default $FAIRGEN_RUNS_DIR, else ~/.fairgen/runs)")
    prune.add_argument("--max-age-days", metavar="N", help=f"default ${MAX_AGE_ENV}, else {DEFAULT_MAX_AGE_DAYS:g}")
    prune.add_argument("--max-gb", metavar="N", help=f"bound on all runs together, in GB (default ${MAX_GB_ENV}, "
                       f"else {DEFAULT_MAX_GB:g})")
    prune.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    prune.set_defaults(handler=_prune)


def _add_report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="write the run's self-contained HTML audit report",
                                 description="Re-open the run's data (checking it is unchanged), assess the "
                                 "generator and write an HTML report that opens offline; optionally the same "
                                 "numbers as CSV and JSON.")
    report.add_argument("run", metavar="RUN_DIR")
    report.add_argument("--out", required=True, metavar="FILE.html")
    report.add_argument("--metrics-csv", metavar="FILE.csv", help="also write the numbers as a flat CSV")
    report.add_argument("--metrics-json", metavar="FILE.json", help="also write the numbers as JSON")
    report.add_argument("--sigma", type=float, help="noise of the FID baseline (default as for `quality`)")
    report.add_argument("--seed", type=int, default=0)
    report.set_defaults(handler=_report)


def _add_audit_parser(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser(
        "audit", help="audit your own model's decisions or scores for group fairness",
        description="Per-group rates of the model's predictions and the differences of every group against the "
        "privileged group (statistical parity, disparate impact, equal opportunity, average odds, predictive "
        "parity; with more than two groups also the largest gap between any two), each with a bootstrap interval "
        "and a verdict: within tolerance, disparity or insufficient evidence.")
    _add_data_arguments(audit)
    audit.add_argument("--predictions", nargs="+", metavar="COL",
                       help="one column per model (of the data, or of --predictions-file: default all its columns)")
    audit.add_argument("--predictions-file", metavar="FILE.csv", help="a second CSV holding the predictions")
    audit.add_argument("--key", metavar="COL", help="column joining --predictions-file to the data (default: row "
                       "order, same number of rows)")
    audit.add_argument("--scores", action="store_true", help="the columns are scores in [0, 1], not 0/1 decisions")
    audit.add_argument("--rescale-scores", action="store_true",
                       help="min–max scale scores outside [0, 1] to [0, 1] (order kept)")
    defaults = ModelAuditConfig()
    audit.add_argument("--threshold", type=float, default=defaults.threshold,
                       help=f"decision = score >= T (default {defaults.threshold})")
    audit.add_argument("--group-thresholds", type=float, nargs="+", metavar="T",
                       help="one threshold per group, in the order `inspect` lists the groups")
    audit.add_argument("--bootstrap", type=int, default=defaults.bootstrap, help="resamples (default 1000)")
    audit.add_argument("--seed", type=int, default=defaults.seed)
    audit.add_argument("--json", action="store_true", help="print JSON instead of tables")
    audit.add_argument("--out", metavar="FILE.html", help="also write the self-contained HTML audit report")
    audit.add_argument("--run", metavar="RUN_DIR",
                       help="also record the --predictions columns (and --scores, --threshold, --rescale-scores) in "
                       "this run folder, trained on the same data: `report RUN_DIR` then audits them, with the "
                       "run's label and groups")
    audit.set_defaults(handler=_audit)


def _add_run_table_parsers(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser("sweep", help="the fair classifier at every real:synthetic ratio, into RUN_DIR",
                                description="Pre-train C on balanced synthetic rows, fine-tune it at every ratio, "
                                f"train 'no TL'; measure the test split; write RUN_DIR/{SWEEP}.")
    sweep.add_argument("run", metavar="RUN_DIR")
    sweep.add_argument("--reps", type=int, default=1, help="classifier seeds per ratio (default 1)")
    sweep.add_argument("--ratios", default="0:1:0.1", help="real shares: 0,0.5,1 or start:stop:step")
    compare = commands.add_parser("compare", help="the comparison methods on the run's split, into RUN_DIR",
                                  description="Baseline, reweighing, disparate impact remover, calibrated "
                                  "equalised odds, meta fair classifier, adversarial debiasing and LAFTR on the "
                                  f"run's split; write RUN_DIR/{METHODS}.")
    compare.add_argument("run", metavar="RUN_DIR")
    compare.add_argument("--reps", type=int, default=1, help="seeds per method (default 1)")
    compare.add_argument("--methods", nargs="+", metavar="NAME", help="all (default) or method names")
    for parser, handler in ((sweep, _sweep), (compare, _compare)):
        parser.add_argument("--epochs", type=int, default=ClassifierConfig().max_epochs, help="classifier epochs")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        _add_ray_argument(parser, "run the analysis as a task on a Ray cluster whose nodes see RUN_DIR")
        parser.set_defaults(handler=handler)


def _add_ray_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--ray", metavar="ADDRESS", default=ray_address(),
                        help=f"{what}: auto (the cluster this machine joined), local (a new one here) or the head's "
                        f"HOST:PORT (default ${RAY_ADDRESS_ENV}; unset: here); needs requirements-cluster.txt")


def _add_experiment_parser(commands: argparse._SubParsersAction) -> None:
    experiment = commands.add_parser(
        "experiment", help="the paper's protocol: repeated splits, generator, ratio sweep, comparison methods",
        description="For each repetition: a random 70/15/15 split (seed + i), the generator, the transfer-"
        f"learned classifier at every ratio plus 'no TL', and the comparison methods; writes {layout.RESULTS}, "
        f"{layout.SUMMARY}, {layout.EXPERIMENT_MANIFEST} and the paper's Fig. 2 / Fig. 3 to OUT. Finished cells are "
        "reused.")
    _add_data_arguments(experiment)
    _add_keep_leak(experiment)
    experiment.add_argument("--out", required=True, metavar="DIR", help="results folder")
    experiment.add_argument("--reps", type=int, default=10, help="repetitions (default 10)")
    experiment.add_argument("--selection", choices=[*SELECTION_RULES, "both"], default="both",
                            help="how every method picks epochs, levels and thresholds on validation: best balanced "
                            "accuracy, or the smallest |EqOpp| within 0.02 of it (fair); both (default) reports each")
    experiment.add_argument("--pairs", choices=PAIR_PROTOCOLS, default=ClassifierConfig().pairs,
                            help="synthetic pairs: flip the group and keep the label (counterfactual), or the "
                            "paper's rule (flip the label too, at random)")
    experiment.add_argument("--methods", nargs="+", metavar="NAME",
                            help="comparison methods: all (default), none, or method names (a wrong one lists them)")
    experiment.add_argument("--ratios", default="0:1:0.1", help="real shares to sweep: 0,0.5,1 or start:stop:step")
    experiment.add_argument("--jobs", type=int, default=1, help="cells run in parallel processes")
    _add_ray_argument(experiment, "run the cells as tasks on a Ray cluster whose nodes see DIR")
    experiment.add_argument("--max-parallel", type=int, metavar="N", help="with --ray: cells at once, at most")
    experiment.add_argument("--seed", type=int, default=0)
    experiment.add_argument("--epochs", type=int, default=GeneratorConfig().epochs, help="generator epochs, at most")
    experiment.add_argument("--no-calibration", dest="calibrated_sampling", action="store_false",
                            help="pre-train on the decoder's own rows, as the paper does, instead of calibrated ones")
    experiment.add_argument("--classifier-epochs", type=int, default=ClassifierConfig().max_epochs)
    experiment.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    experiment.add_argument("--fresh", action="store_true", help="discard results already in DIR")
    experiment.set_defaults(handler=_experiment)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DATA", help="a built-in name (see `datasets`) or a CSV path")
    parser.add_argument("--file", help="raw file for built-ins that need one (meps: AHRQ h181.csv)")
    parser.add_argument("--label", help="label column")
    parser.add_argument("--favourable", nargs="+", metavar="VALUE",
                        help="favourable label value(s); inferred for 0/1 labels")
    parser.add_argument("--sensitive", nargs="+", metavar="RULE",
                        help="sensitive attribute(s): COL=VALUE[,VALUE] (privileged values) or COL>=NUMBER; "
                        "COL alone takes the most frequent value as privileged")
    parser.add_argument("--min-domain-rows", type=int, default=20, metavar="N",
                        help="warn about domains with fewer rows (default 20)")
    parser.add_argument("--max-mb", type=float, default=ReadLimits().max_bytes / 1e6,
                        help="largest CSV accepted, in MB")


def _add_keep_leak(parser: argparse.ArgumentParser, note: str = "") -> None:
    parser.add_argument("--keep-leak", action="append", default=[], metavar="COLUMN",
                        help="keep COLUMN as an input of the models although it leaks the label or a sensitive "
                        "attribute (such columns are left out by default; repeat for several)" + note)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, with the message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except FairGenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _datasets(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": ds.name,
            "rows": ds.n_rows,
            "label": f"{ds.label} (favourable: {', '.join(map(str, ds.favourable))})",
            "sensitive": "; ".join(a.describe() for a in ds.sensitive),
            "also": "; ".join(a.describe() for a in ds.alternatives) or "-",
            "needs file": "yes" if ds.needs_file else "no",
            "title": ds.title,
        }
        for ds in BUILTIN_DATASETS.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


def _open(args: argparse.Namespace) -> DataSource:
    return open_data(args.data, file=args.file, limits=ReadLimits(max_bytes=int(args.max_mb * 1e6)))


def _data_file(args: argparse.Namespace) -> str | None:
    """Where a run reads its table again: a CSV's absolute path, a built-in's raw file (MEPS), or None."""
    if args.file:
        return str(Path(args.file).resolve())
    return None if str(args.data).strip().lower() in BUILTIN_DATASETS else str(Path(args.data).resolve())


def _inspect(args: argparse.Namespace) -> int:
    source = _open(args)
    spec = _spec_from_args(args, source)
    structure = detect_structure(source.frame, label=spec.label, sensitive=spec.sensitive_columns,
                                 schema=source.schema)
    schema, _ = _leak_choice(args, source, structure)
    warnings = [*validate_spec(source.frame, source.schema, spec), *structure.warnings()]
    schema_table = pd.DataFrame(
        [{"column": c.name, "kind": c.kind.value, "dtype": c.dtype, "distinct": c.n_unique, "missing": c.n_missing}
         for c in schema.columns]
    )
    table = domain_table(source.frame, spec)
    if args.json:
        print(json.dumps({
            "data": source.name,
            "rows": len(source.frame),
            "schema": schema_table.to_dict(orient="records"),
            "label": spec.label,
            "favourable": [str(v) for v in spec.favourable],
            "sensitive": [a.describe() for a in spec.sensitive],
            "domains": table.reset_index().to_dict(orient="records"),
            "structure": structure.to_dict(),
            "notes": list(source.notes),
            "warnings": list(warnings),
        }, indent=2, default=str))
        return 0
    print(f"{source.name}: {len(source.frame):,} rows × {source.frame.shape[1]} columns")
    for note in source.notes:
        print(f"  note: {note}")
    print("\nSchema\n" + schema_table.to_string(index=False))
    print("\n" + _format_structure(structure))
    print(f"\nLabel: {spec.label}, favourable = {', '.join(map(str, spec.favourable))}")
    print("Sensitive: " + "; ".join(a.describe() for a in spec.sensitive))
    label_names = assign_domains(source.frame, spec).label_names
    print("\nDomains (group × label)\n" + _format_domain_table(table, label_names))
    for warning in validate_spec(source.frame, source.schema, spec):  # the leaks were on stderr, with their fix
        print(f"warning: {warning}")
    return 0


def _leak_choice(args: argparse.Namespace, source: DataSource, structure: Structure,
                 remembered: tuple[str, ...] = ()) -> tuple[Schema, tuple[str, ...]]:
    """The schema with every leaking column left out (kind ``leak``) but those of ``--keep-leak`` and ``remembered``
    (a resumed run's), and those kept.

    Prints to stderr, per column left out, what it leaks and how to keep it; per kept column, that it stays an input
    (or that it leaks nothing).
    """
    kept = tuple(dict.fromkeys([*remembered, *args.keep_leak]))
    for column in kept:
        require_column(source.frame, column, "--keep-leak")
    schema, messages = exclude_leaks(source.schema, structure, keep=kept)
    for column, message in messages.items():
        print(f"warning: {message} To keep it: --keep-leak {column}.", file=sys.stderr)
    leaks = {rule.columns[0]: rule for rule in structure.leaks}
    for column in kept:
        if column in leaks:
            rule = leaks[column]
            print(f"note: '{column}' leaks {ROLE_WORDS[rule.role]} '{rule.columns[1]}' but stays an input of the "
                  "models (--keep-leak).", file=sys.stderr)
        else:
            print(f"warning: --keep-leak {column}: '{column}' leaks neither the label nor a sensitive attribute, so "
                  "there is nothing to keep.", file=sys.stderr)
    return schema, kept


def _format_structure(structure: Structure) -> str:
    """The rules every row obeys, one per line with its evidence (leaks are printed as warnings)."""
    rules = structure.row_rules
    if not rules:
        return "Structure: no one-hot group, complement, derived column, numeric bound or identifier found."
    lines = [f"Structure ({len(rules)} rule(s) the rows obey; share of rows)"]
    lines += [f"  {rule.kind.value:<13} {rule.describe()}: {rule.evidence()}" for rule in rules]
    lines += [f"  note: {note}" for note in structure.notes]
    return "\n".join(lines)


def _spec_from_args(args: argparse.Namespace, source: DataSource) -> DatasetSpec:
    default = source.default_spec
    label = args.label or (default.label if default else None)
    if label is None:
        raise SpecError("choose the label column with --label COL.")
    if args.favourable:
        favourable = tuple(args.favourable)
    elif default is not None and label == default.label:
        favourable = default.favourable
    else:
        require_column(source.frame, label, "label")
        favourable = infer_favourable(source.frame[label], label)
    if args.sensitive:
        sensitive = tuple(_parse_sensitive(rule, source.frame) for rule in args.sensitive)
    elif default is not None:
        sensitive = default.sensitive
    else:
        raise SpecError("choose at least one sensitive attribute with --sensitive COL=VALUE or COL>=NUMBER.")
    return DatasetSpec(label, favourable, sensitive, min_domain_rows=args.min_domain_rows)


def _parse_sensitive(rule: str, frame: pd.DataFrame) -> SensitiveAttribute:
    if "=" in rule:
        return SensitiveAttribute.parse(rule)
    column = rule.strip()
    require_column(frame, column, "sensitive attribute")
    counts = frame[column].value_counts()
    if counts.empty:
        raise SpecError(f"sensitive attribute '{column}' has no values: choose another column.")
    return SensitiveAttribute(column, (counts.index[0],))


def _format_domain_table(table: pd.DataFrame, label_names: tuple[str, str]) -> str:
    shown = table.copy()
    for column in ("base_rate", "p_unfavourable", "p_favourable"):
        shown[column] = shown[column].map("{:.3f}".format)
    unfavourable, favourable = label_names
    shown.columns = [f"n({unfavourable})", f"n({favourable})", "n", "P(y=1|group)", "P(group,y=0)", "P(group,y=1)"]
    return shown.to_string() + "\n(y=1: " + favourable + ")"


def _fit(args: argparse.Namespace) -> int:
    apply_thread_budget()
    source = _open(args)
    spec = _spec_from_args(args, source)
    for warning in validate_spec(source.frame, source.schema, spec):
        print(f"warning: {warning}", file=sys.stderr)
    config = GeneratorConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                             adversarial=args.adversarial, critic_steps=args.critic_steps, device=args.device,
                             seed=args.seed, encoding=EncoderConfig(numeric=args.numeric_encoding,
                                                                    point_mass=args.point_mass or None,
                                                                    fold_one_hot=args.fold_one_hot),
                             calibrated_sampling=args.calibrated_sampling)
    run = RunDir(args.out)
    if args.resume:
        manifest = run.read_manifest()
        split, config = manifest.split, replace(manifest.config, epochs=args.epochs)
    else:
        split = default_split(source.frame, spec, seed=config.seed)
        manifest = new_manifest(source.name, _data_file(args), source.frame, spec, config, split)
    structure = manifest.structure or detect_structure(source.frame, label=spec.label,
                                                       sensitive=spec.sensitive_columns, schema=source.schema)
    _, kept = _leak_choice(args, source, structure, remembered=manifest.kept_leaks)
    if not args.resume:
        run.write_manifest(replace(manifest, kept_leaks=kept))
    bar = ProgressBar(sys.stderr)

    def report(epoch: EpochReport) -> None:
        run.append_progress(epoch)
        bar.update(epoch)

    print(f"training on {len(split.train):,} rows ({resolve_device(config.device)}), validating on "
          f"{len(split.val):,}; writing {run.path}", file=sys.stderr)
    model = fit_generator(source.frame, spec, schema=source.schema, config=config, split=split, callback=report,
                          checkpoint_path=run.model_path, resume_from=run.model_path if args.resume else None,
                          keep_leaks=kept)
    bar.close()
    last = model.history[-1] if model.history else {}
    best = last.get("best_fid")
    print(f"done: {last.get('epoch', 0)} epochs, best validation FID {'none' if best is None else f'{best:.3f}'}, "
          f"stopped: {last.get('stopped')}; model in {run.model_path}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    run = RunDir(args.run)
    run.read_manifest()
    model = FairGenerator.load(run.model_path, device=args.device)
    counts = model.domain_counts(args.n, per_domain=args.per_domain)
    started = time.perf_counter()
    rows = write_csv(model.iter_samples(counts, seed=args.seed), args.out)
    print(f"wrote {rows:,} rows ({', '.join(f'{name}: {n:,}' for name, n in zip(model.domain_names, counts))}) "
          f"to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _quality(args: argparse.Namespace) -> int:
    run = RunDir(args.run)
    manifest, source = run.read_manifest(), run.open_data()
    model = FairGenerator.load(run.model_path)
    sigma = args.sigma or default_sigma(manifest.data)
    result = assess_quality(model, source.frame, manifest.split, sigma=sigma, seed=args.seed)
    translation = assess_translation(model, source.frame, manifest.split, pairs=args.pairs, seed=args.seed)
    validity = run_validity(model, source.frame, manifest, seed=args.seed)
    if args.json:
        print(json.dumps({**result.to_dict(), "translation": translation.to_dict(), "validity": validity.to_dict()},
                         indent=2, default=str))
        return 0
    fidelity = result.fidelity
    print(f"Standard measures: {fidelity.summary()}")
    reasons = result.shortcomings(validity)
    print("Not a good result: " + " ".join(reasons) if reasons else "Every measure is fair or good.")
    print("\nPer domain (standard measures)")
    print(fidelity.per_domain.to_string(index=False, float_format="{:.3f}".format))
    print(f"\nThe paper's figure: {result.quality.verdict()}")
    print(f"\nValidity: {validity.verdict()}")
    broken = validity.per_rule[validity.per_rule["violations"] > 0]
    if not broken.empty:
        print("Rules broken by synthetic rows (share of rows keeping each; the 10 least kept)")
        print(broken.sort_values("share", kind="stable").head(10)[["description", "share", "real_share", "violations"]]
              .to_string(index=False, float_format="{:.3f}".format))
    print(f"\nTranslation fidelity ({args.pairs} pairs, test rows, probe trained on the training rows): "
          f"{translation.summary()}")
    print(translation.per_domain.to_string(index=False, float_format="{:.3f}".format))
    print("\nPer domain FID (test rows vs synthetic rows with the same counts)")
    print(result.quality.per_domain.drop(columns="note").to_string(index=False, float_format="{:.3f}".format))
    print(f"\nMean |correlation difference|: {result.correlation_difference:.3f}")
    print("Largest marginal differences:")
    print(result.marginals.sort_values("value", ascending=False).head(5).to_string(index=False,
                                                                                   float_format="{:.3f}".format))
    print("\n" + result.privacy.verdict())
    return 0


def _experiment(args: argparse.Namespace) -> int:
    # Imported here: the comparison methods load aif360 and fairlearn, which the other commands do not need.
    from fairgen_core.experiment import ExperimentConfig, run_experiment

    for flag, value in (("--reps", args.reps), ("--jobs", args.jobs), ("--max-parallel", args.max_parallel)):
        if value is not None and value <= 0:
            raise FairGenError(f"{flag} must be positive, got {value}.")
    if args.ray and args.jobs != 1:
        raise FairGenError(f"--jobs runs local processes: with --ray (or ${RAY_ADDRESS_ENV}) bound the cells with "
                           "--max-parallel instead.")
    if args.max_parallel is not None and not args.ray:
        raise FairGenError(f"--max-parallel bounds a Ray run: give --ray (or set ${RAY_ADDRESS_ENV}), or use --jobs.")
    source = _open(args)
    spec = _spec_from_args(args, source)
    for warning in validate_spec(source.frame, source.schema, spec):
        print(f"warning: {warning}", file=sys.stderr)
    _, kept = _leak_choice(args, source, detect_structure(source.frame, label=spec.label,
                                                          sensitive=spec.sensitive_columns, schema=source.schema))
    protocol = ExperimentConfig(repetitions=args.reps, ratios=parse_ratios(args.ratios),
                                methods=parse_methods(args.methods), seed=args.seed,
                                selections=SELECTION_RULES if args.selection == "both" else (args.selection,))
    if args.fresh and Path(args.out).exists():
        shutil.rmtree(args.out)
    started, printer = time.perf_counter(), CellPrinter(sys.stderr)
    result = run_experiment(
        source.frame, spec, args.out, data_name=source.name, data_file=_data_file(args), experiment=protocol,
        generator=GeneratorConfig(epochs=args.epochs, device=args.device, calibrated_sampling=args.calibrated_sampling),
        classifier=ClassifierConfig(max_epochs=args.classifier_epochs, device=args.device, pairs=args.pairs),
        executor=ExecutorConfig(jobs=args.jobs, ray=args.ray, max_parallel=args.max_parallel), progress=printer,
        keep_leaks=kept)
    shown = result.summary.assign(value=mean_std_column)
    shown = shown[(shown["ratio"].isna() | at_ratio(shown["ratio"], protocol.highlight_ratio))
                  & shown["metric"].isin(SWEEP_METRICS)]
    print(shown.pivot_table(index=["selection", "method"], columns="metric", values="value", aggfunc="first",
                            sort=False).to_string())
    print(f"\nwrote {result.out / layout.RESULTS} ({len(result.results):,} rows), {layout.SUMMARY}, {layout.PAIRED}, "
          f"{layout.EXPERIMENT_MANIFEST} and {', '.join(path.name for path in result.figures.values())} in "
          f"{time.perf_counter() - started:.0f} s")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    return _run_table(args, SWEEP, lambda model, frame, split, config, progress, on_rows: ratio_sweep(
        model, frame, split, ratios=parse_ratios(args.ratios), repetitions=args.reps, config=config,
        progress=progress, on_rows=on_rows))


def _compare(args: argparse.Namespace) -> int:
    from fairgen_core.mitigations import compare_methods

    return _run_table(args, METHODS, lambda model, frame, split, config, progress, on_rows: compare_methods(
        model, frame, split, methods=parse_methods(args.methods), config=config, repetitions=args.reps,
        progress=progress, on_rows=on_rows))


def _run_table(args: argparse.Namespace, name: str, compute) -> int:
    """Compute a results table on a run's split with its generator and write it into the run folder.

    Progress (a line per finished cell, and the run folder's ``NAME.progress.json``) goes to :class:`TaskProgress`,
    each finished cell's rows to the run folder's partial table (:class:`PartialTable`), which the results table
    replaces at the end (a stopped or failed analysis leaves it with the cells it finished). With ``--ray`` the
    analysis is one Ray task (a GPU when the cluster has one), which writes them into RUN_DIR on its node.
    """
    config = ClassifierConfig(max_epochs=args.epochs, seed=args.seed, device=args.device)
    table = run_one(ExecutorConfig(ray=args.ray), _compute_table, (Path(args.run), args.command, config, compute),
                    gpu=args.device != "cpu")
    run = RunDir(args.run)
    _print_table_summary(table, run.write_table(name, table))
    PartialTable(run.path, args.command).discard()
    return 0


def _compute_table(_: None, job: tuple[Path, str, ClassifierConfig, Callable[..., pd.DataFrame]]) -> pd.DataFrame:
    """A run's analysis with its progress and finished cells in the run folder: here, or as a Ray task."""
    run_dir, command, config, compute = job
    apply_thread_budget()
    run = RunDir(run_dir)
    manifest, source = run.read_manifest(), run.open_data()
    model = FairGenerator.load(run.model_path, device=config.device)
    return compute(model, source.frame, manifest.split, config, TaskProgress(run.path, command),
                   PartialTable(run.path, command))


def _print_table_summary(table: pd.DataFrame, path: Path) -> None:
    summary = summarise(table)
    summary["value"] = mean_std_column(summary)
    summary["row"] = summary["method"] + summary["ratio"].map(lambda r: "" if pd.isna(r) else f" r={r:.1f}")
    print(summary.pivot_table(index="row", columns="metric", values="value", aggfunc="first", sort=False).to_string())
    print(f"\nwrote {path}")


def parse_ratios(text: str) -> tuple[float, ...]:
    """``"0,0.1,0.5"`` or ``"0:1:0.1"`` (start:stop:step, inclusive) as a tuple of ratios.

    Examples
    --------
    >>> parse_ratios("0:1:0.25")
    (0.0, 0.25, 0.5, 0.75, 1.0)
    >>> parse_ratios("0.5, 1")
    (0.5, 1.0)
    """
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            count = round((stop - start) / step) + 1
            return tuple(round(start + i * step, 10) for i in range(count))
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise FairGenError(f"--ratios '{text}' is not a comma list of numbers or start:stop:step.") from error


def parse_methods(names: Sequence[str] | None) -> tuple[str, ...]:
    """Method names from the command line (``all`` or none given: every method; ``none``: no baselines)."""
    from fairgen_core.mitigations import METHODS as METHOD_NAMES  # loads aif360: only when asked for

    if not names or list(names) == ["all"]:
        return tuple(METHOD_NAMES)
    if list(names) == ["none"]:
        return ()
    return tuple(name for chunk in names for name in chunk.split(",") if name)


def _prune(args: argparse.Namespace) -> int:
    def bound(option: str, given: str | None, env: str, default: float) -> float | None:
        return bound_from_env(env, default) if given is None else parse_bound(given, option, default)

    policy = RetentionPolicy(bound("--max-age-days", args.max_age_days, MAX_AGE_ENV, DEFAULT_MAX_AGE_DAYS),
                             bound("--max-gb", args.max_gb, MAX_GB_ENV, DEFAULT_MAX_GB))
    root = Path(args.root) if args.root else default_runs_base()
    report = prune_runs(root, policy, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    now = time.time()
    for run in report.removed:
        print(f"{verb} {run.path} ({run.reason}: last modified {(now - run.modified) / 86_400:.1f} days ago, "
              f"{_size(run.size_bytes)})")
    for workspace in report.removed_workspaces:
        print(f"removed the emptied workspace folder {workspace}")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"{verb} {len(report.removed)} run folder(s) under {root}, {_size(report.freed_bytes)}; runs "
          f"{'would ' if args.dry_run else ''}take {_size(report.bytes_after)} (were {_size(report.bytes_before)}); "
          f"{len(report.kept_active)} active run(s) kept")
    return 1 if report.errors else 0


def _size(n_bytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.2f} {unit}"
    return f"{n_bytes} bytes"


class CellPrinter:
    """One line per finished experiment cell, with an ETA from the cells computed so far."""

    def __init__(self, stream) -> None:
        self.stream, self.started, self.computed = stream, time.perf_counter(), 0

    def __call__(self, cell: CellDone) -> None:
        self.computed += not cell.cached
        remaining = cell.total - cell.finished
        elapsed = time.perf_counter() - self.started
        eta = f", ETA {elapsed / self.computed * remaining / 60:.1f} min" if remaining and self.computed else ""
        how = "cached" if cell.cached else f"failed: {cell.failure}" if cell.failure else f"{cell.seconds:.1f} s"
        print(f"[{cell.finished}/{cell.total}] rep {cell.repetition} {cell.stage} ({how}){eta}", file=self.stream,
              flush=True)


def _report(args: argparse.Namespace) -> int:
    run = RunDir(args.run)
    started = time.perf_counter()
    manifest, source = run.read_manifest(), run.open_data()
    model = FairGenerator.load(run.model_path)
    quality = assess_quality(model, source.frame, manifest.split, sigma=args.sigma or default_sigma(manifest.data),
                             seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_report(run, source.frame, quality=quality), encoding="utf-8")
    written = [out]
    if args.metrics_csv:
        written.append(Path(args.metrics_csv))
        written[-1].write_bytes(csv_bytes(metrics_table(run, source.frame, quality=quality)))
    if args.metrics_json:
        written.append(Path(args.metrics_json))
        written[-1].write_text(json.dumps(metrics_json(run, source.frame, quality=quality), indent=1,
                                          ensure_ascii=False), encoding="utf-8")
    print(f"wrote {', '.join(map(str, written))} in {time.perf_counter() - started:.1f} s")
    return 0


#: The ``audit`` flag that switches on each setting a refused prediction column or file names as its fix.
AUDIT_REMEDY_FLAGS = {MARK_AS_SCORES: "add --scores (and --threshold T)", RESCALE_SCORES: "add --rescale-scores",
                      MATCH_BY_KEY: "add --key COLUMN"}


def _audit(args: argparse.Namespace) -> int:
    source = _open(args)
    spec = _spec_from_args(args, source)
    warnings = validate_spec(source.frame, source.schema, spec)
    if not args.scores and (args.group_thresholds or args.rescale_scores):
        raise FairGenError("--group-thresholds and --rescale-scores apply to scores: add --scores.")
    try:
        models = model_inputs(*_prediction_columns(args, source), scores=args.scores, rescale=args.rescale_scores)
    except PredictionError as error:
        flag = AUDIT_REMEDY_FLAGS.get(error.remedy)
        if flag is None:
            raise
        raise PredictionError(f"{error} On the command line: {flag}.", remedy=error.remedy) from error
    config = ModelAuditConfig(threshold=args.threshold, bootstrap=args.bootstrap, seed=args.seed,
                              group_thresholds=tuple(args.group_thresholds) if args.group_thresholds else None)
    run = _run_to_record(args, source)
    audits = audit_models(source.frame, spec, models, config)
    if run is not None:
        recorded = record_models(run.path, RecordedModels(tuple(m.name for m in models), scores=args.scores,
                                                          threshold=args.threshold, rescale=args.rescale_scores))
        print(f"recorded {', '.join(m.name for m in models)} in {recorded}: `report {run.path}` audits them",
              file=sys.stderr)
    described = {"frame": source.frame, "spec": spec, "data": source.name, "config": config}
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(model_audit_html(audits, models=models, **described), encoding="utf-8")
    if args.json:
        print(json.dumps({**model_audit_json(audits, **described), "warnings": list(warnings)}, indent=2,
                         ensure_ascii=False))
    else:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"{source.name}: label {spec.label} (favourable: {', '.join(map(str, spec.favourable))}); "
              "sensitive: " + "; ".join(a.describe() for a in spec.sensitive))
        for audit in audits:
            print("\n" + _format_model_audit(audit))
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _run_to_record(args: argparse.Namespace, source: DataSource) -> RunDir | None:
    """The run folder of ``--run``, checked: columns of the data, one threshold, the data the run was trained on."""
    if args.run is None:
        return None
    if args.predictions_file is not None:
        raise FairGenError("--run records prediction columns of the data itself; a --predictions-file is not kept "
                           "with the run: add its columns to the data file, or drop --run.")
    if args.group_thresholds:
        raise FairGenError("--run records one --threshold for the run's report: drop --group-thresholds, or --run.")
    run = RunDir(args.run)
    trained_on, audited = run.read_manifest().data_sha256, frame_hash(source.frame)
    if trained_on != audited:
        raise FairGenError(f"the run '{args.run}' was trained on other data (SHA-256 {trained_on[:12]}…) than "
                           f"'{source.name}' ({audited[:12]}…): give the data the run was trained on, or drop --run.")
    return run


def _prediction_columns(args: argparse.Namespace, source: DataSource) -> tuple[pd.DataFrame, list[str]]:
    """The table holding the predictions (aligned with the data's rows) and the columns to audit."""
    if args.predictions_file is None:
        if args.key:
            raise FairGenError("--key joins a --predictions-file to the data: give the file too, or drop --key.")
        if not args.predictions:
            raise FairGenError("choose the model's column(s) with --predictions COL [COL ...], or give a "
                               "--predictions-file.")
        return source.frame, list(args.predictions)
    table = read_csv(args.predictions_file, limits=ReadLimits(max_bytes=int(args.max_mb * 1e6))).frame
    aligned = join_predictions(source.frame, table, key=args.key)
    return aligned, list(args.predictions or aligned.columns)


def _format_model_audit(audit: ModelAudit) -> str:
    """A model's audit as plain-text tables and its summary."""
    groups = audit.per_group.rename(columns={"selection_rate": "selected", "balanced_accuracy": "bal. acc."})
    shown = ["group", "n", "positives", "selected", "tpr", "fpr", "fnr", "precision", "bal. acc."]
    shown += ["brier"] if "brier" in groups else []
    level = f"{audit.confidence:.0%}"
    table = audit.differences
    several = audit.several_groups
    compared = [comparison_text(*row) for row in table[["comparison", "group", "reference"]].itertuples(index=False)]
    differences = pd.DataFrame({
        "metric": table["metric"],
        **({"compared": compared} if several else {}),
        "value": table["value"].map("{:.3f}".format),
        f"{level} interval": list(map(interval_text, table["ci_low"], table["ci_high"])),
        "tolerance": list(map(tolerance_text, table["metric"], table["tolerance"])),
        "verdict": table["verdict"],
    })
    notes = [f"  {row.metric}{f' ({text})' if several else ''}: {row.note}"
             for row, text in zip(table.itertuples(), compared) if row.note]
    groups_compared = (f"every group vs '{audit.privileged}' (privileged, the reference), and the largest gaps"
                       if several else f"'{audit.unprivileged}' (unprivileged) vs '{audit.privileged}' (privileged)")
    return "\n".join([
        f"Model '{audit.model}' ({audit.decision_rule}), {audit.n_rows:,} rows: {groups_compared}",
        groups[shown].to_string(index=False, float_format="{:.3f}".format),
        "",
        differences.to_string(index=False),
        *(["notes:", *notes] if notes else []),
        "",
        audit.summary(),
    ])

