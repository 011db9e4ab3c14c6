"""FairGen against the generators users would pick instead, measured by FairGen's own code in one run.

On the product's split (:func:`~fairgen_core.data.splits.default_split`, seed ``--seed``) of each built-in dataset,
every generator fits the training rows and samples as many rows as the training split has: FairGen with its
defaults (as ``python -m fairgen_core fit`` trains it; rows drawn with the training split's domain counts, and
once more exactly balanced, the product's default), CTGAN and TVAE (``ctgan``), adversarial random forests
(``arfpy``) and the fairness-aware TabFairGDT (``tabfairgdt``: autoregressive decision trees with fair leaf
relabelling). Every generator's rows are then measured the same way: ``metrics.fidelity.fidelity_report``
(column shapes, column-pair trends, detection, TSTR against TRTR balanced accuracy and the TSTR model's fairness,
per domain) against the real test rows in the encoded space of FairGen's encoder fitted on the training rows, and
``metrics.validity.validity`` (the training rows' structural rules, real test rows as the yardstick).

Recorded per generator: wall seconds of fitting and of sampling, training rows per second where it trains in
epochs, and quality at equal wall time: FairGen stopped at each budget (``fit_generator``'s ``should_stop``; the
default fit itself where it stops sooner) and CTGAN's generator as it was at the last epoch that ended within each
budget (a hook on CTGAN's epoch loop; the library has no callback). CTGAN and TVAE run their default 300 epochs
unless that exceeds ``--max-fit-s``; then they stop at the first epoch that ends after it (the epochs are recorded).

The peers are not FairGen dependencies: run this in the benchmark environment of
``benchmarks/requirements-peers.txt`` (its header says how to create it)::

    /work/peers-venv/bin/python benchmarks/generators_vs_peers.py --quick --out /tmp/peers_quick.json
    /work/peers-venv/bin/python benchmarks/generators_vs_peers.py

The Markdown tables of ``docs/benchmarks.md`` are printed at the end (``--markdown-only FILE`` reprints them from a
results file).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from fairgen_core.config import GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.encoding import TabularEncoder  # noqa: E402
from fairgen_core.data.schema import ColumnKind, Schema  # noqa: E402
from fairgen_core.data.spec import DatasetSpec, assign_domains  # noqa: E402
from fairgen_core.data.splits import Split, default_split  # noqa: E402
from fairgen_core.data.structure import Structure  # noqa: E402
from fairgen_core.devices import apply_thread_budget  # noqa: E402
from fairgen_core.errors import FairGenError  # noqa: E402
from fairgen_core.generator import EpochReport, FairGenerator, fit_generator  # noqa: E402
from fairgen_core.generator.training import prepare_data  # noqa: E402
from fairgen_core.metrics.fidelity import DOMAIN_COLUMNS, FidelityInputs, fidelity_report  # noqa: E402
from fairgen_core.metrics.validity import VALIDITY_MARGIN, validity  # noqa: E402

DATASETS = ("adult", "compas", "german")
PEERS = ("fairgen", "ctgan", "tvae", "arf", "tabfairgdt")
#: Seconds at which FairGen and CTGAN are compared at equal wall time (``--quick``: :data:`QUICK_BUDGETS`).
BUDGETS = (10.0, 30.0, 100.0)
QUICK_BUDGETS = (3.0, 6.0)
#: Epochs of the epoch-trained generators in a ``--quick`` smoke run.
QUICK_EPOCHS = 2
#: Packages whose versions the results record.
VERSIONED = ("torch", "numpy", "pandas", "scikit-learn", "ctgan", "rdt", "arfpy", "tabfairgdt")
#: Discrete values the peers see for a missing value (mapped back to missing in their rows).
MISSING = "<missing>"
#: arfpy's defaults: trees per forest and adversarial rounds at most.
ARF_DEFAULTS = (30, 10)
#: arfpy (pure Python and pandas, unlike the R package's ranger) took 7 minutes on Adult's 34,189 training rows
#: with 10 trees and 1 round on the shared 2-core machine; its defaults would take far longer. Larger training
#: sets get :data:`ARF_REDUCED`.
ARF_DEFAULTS_MAX_ROWS = 20_000
ARF_REDUCED = (10, 1)
#: TabFairGDT's fairness-utility trade-off (its default; 0: no fairness, 1: most).
TABFAIRGDT_LAMBDA = 0.5


# -- the common ground: data, split, encoder and rules ----------------------------------------------
@dataclass(frozen=True)
class Bench:
    """One dataset as every generator sees it and as every generator's rows are measured.

    Attributes
    ----------
    name : str
        Built-in dataset name.
    frame, spec, schema, split : pandas.DataFrame, DatasetSpec, Schema, Split
        The whole table, its default specification, its column kinds and the product's split of it.
    columns : tuple of str
        What every generator models: the label, the sensitive columns and FairGen's feature columns.
    discrete : tuple of str
        The non-numeric ones among them.
    encoder : TabularEncoder
        FairGen's encoder fitted on the training rows: the space of detection, efficacy and distances.
    structure : Structure
        The training rows' structural rules (validity).
    test : pandas.DataFrame
        Real test rows with a domain, all columns.
    real : FidelityInputs
        The real side of the measures (test and training rows); :meth:`inputs` adds a generator's rows.
    train_counts : numpy.ndarray
        Training rows per domain.
    """

    name: str
    frame: pd.DataFrame
    spec: DatasetSpec
    schema: Schema
    split: Split
    columns: tuple[str, ...]
    discrete: tuple[str, ...]
    encoder: TabularEncoder
    structure: Structure
    test: pd.DataFrame
    real: FidelityInputs
    train_counts: np.ndarray

    @property
    def n_train(self) -> int:
        """Rows every generator samples: as many as the training split has (with a domain)."""
        return int(self.train_counts.sum())

    def train_rows(self) -> pd.DataFrame:
        """The training split's rows with a domain, the modelled columns only."""
        rows = self.frame.iloc[self.split.train]
        return rows[assign_domains(rows, self.spec).valid][list(self.columns)].reset_index(drop=True)

    def inputs(self, synthetic: pd.DataFrame, domains: np.ndarray) -> FidelityInputs:
        """The measures' inputs for synthetic rows (original columns) and their domains."""
        return replace(self.real, synthetic=synthetic[list(self.encoder.columns)].reset_index(drop=True),
                       synthetic_encoded=self.encoder.transform(synthetic), synthetic_domains=domains)


def load_bench(name: str, seed: int) -> Bench:
    """The dataset, its product split, FairGen's encoder and rules fitted on the training rows, the real rows encoded.

    Parameters
    ----------
    name : str
        A built-in dataset.
    seed : int
        Seed of the split (as ``fit --seed``).

    Returns
    -------
    Bench
    """
    dataset = get_builtin(name)
    frame, spec = dataset.load(), dataset.default_spec()
    schema = dataset.schema(frame)
    split = default_split(frame, spec, seed=seed)
    data = prepare_data(frame, spec, schema, split, seed, torch.device("cpu"))
    encoder = data.encoder
    modelled = {spec.label, *spec.sensitive_columns, *encoder.columns}
    columns = tuple(c for c in frame.columns if c in modelled)
    numeric = tuple(c for c in encoder.columns if encoder.schema.kind(c) is ColumnKind.NUMERIC)
    train, test = frame.iloc[split.train], frame.iloc[split.test]
    train_domains, test_domains = assign_domains(train, spec), assign_domains(test, spec)
    test = test[test_domains.valid].reset_index(drop=True)
    empty = test.iloc[:0]
    real = FidelityInputs(
        test[list(encoder.columns)], empty, encoder.transform(test), encoder.transform(empty),
        test_domains.domain[test_domains.valid], np.empty(0, dtype=np.int64),
        encoder.transform(train[train_domains.valid]), train_domains.domain[train_domains.valid],
        numeric, tuple(c for c in encoder.columns if c not in numeric), data.domain_names,
        train_domains.group_names)
    return Bench(name, frame, spec, schema, split, columns, tuple(c for c in columns if c not in numeric), encoder,
                 data.assembler.structure, test, real, np.bincount(real.train_domains, minlength=spec.n_domains))


def measure(bench: Bench, rows: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Every measure of FairGen's quality report on one generator's rows (original columns).

    Rows whose label or sensitive values give no domain are left out (their number is recorded).
    """
    assignment = assign_domains(rows, bench.spec)
    kept = rows[assignment.valid].reset_index(drop=True)
    domains = assignment.domain[assignment.valid].astype(np.int64)
    report = fidelity_report(bench.inputs(kept, domains), seed=seed)
    names = bench.real.domain_names
    checked = validity(kept, bench.structure, domains=domains, domain_names=names, reference=bench.test)
    broken = checked.per_rule[checked.per_rule["share"] < checked.per_rule["real_share"] - VALIDITY_MARGIN]
    shares = np.bincount(domains, minlength=bench.spec.n_domains) / max(len(kept), 1)
    return {
        **{k: v for k, v in report.to_dict().items() if k not in ("columns", "summary", "thresholds")},
        "column_shapes": dict(zip(report.columns["column"], report.columns["score"])),
        "per_domain": report.per_domain[list(DOMAIN_COLUMNS)].to_dict(orient="records"),
        "rows": len(rows), "rows_with_domain": len(kept), "domain_shares": dict(zip(names, shares.tolist())),
        "validity": {"share": checked.share, "real_share": checked.reference, "good": checked.good,
                     "rules": checked.n_rules,
                     "broken_rules": {str(r.description): float(r.share) for r in broken.itertuples(index=False)}},
    }


# -- one generator's run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Generated:
    """A generator's rows and what producing them took.

    Attributes
    ----------
    rows : pandas.DataFrame or None
        :attr:`Bench.columns`, in the original dtypes where the values allow; None for a checkpoint that came
        before the generator's first epoch ended (nothing to sample yet).
    fit_s, sample_s : float
        Wall seconds of fitting (preprocessing included) and of sampling.
    settings : dict
        What was run (epochs, trees, ...).
    rows_per_s : float or None
        Training rows per second of the median epoch (epoch-trained generators).
    checkpoints : tuple of Generated
        Rows of the same run at equal wall time (:data:`BUDGETS`; ``settings["budget_s"]``).
    """

    rows: pd.DataFrame | None
    fit_s: float
    sample_s: float
    settings: dict[str, Any]
    rows_per_s: float | None = None
    checkpoints: tuple[Generated, ...] = ()


@dataclass(frozen=True)
class RunOptions:
    """Options shared by every generator's fit."""

    seed: int
    quick: bool
    budgets: tuple[float, ...]
    max_fit_s: float
    threads: int


def _timed(call: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    rows = call()
    return rows, time.perf_counter() - start


def to_peer(bench: Bench, rows: pd.DataFrame) -> pd.DataFrame:
    """The modelled columns with every discrete column as Python strings (missing: :data:`MISSING`)."""
    out = rows[list(bench.columns)].copy()
    for column in bench.discrete:
        out[column] = pd.Series([MISSING if pd.isna(v) else str(v) for v in out[column]], index=out.index,
                                dtype=object)
    return out


def from_peer(bench: Bench, rows: pd.DataFrame) -> pd.DataFrame:
    """A peer's rows back in the original dtypes (:data:`MISSING` as missing; numbers as numbers)."""
    out = {}
    for column in bench.columns:
        values = pd.Series(rows[column].to_numpy(dtype=object), dtype=object)
        original = bench.frame[column].dtype
        if column not in bench.discrete:
            out[column] = pd.to_numeric(values, errors="coerce")
            continue
        values = values.map(lambda v: np.nan if pd.isna(v) or v == MISSING else v)
        if pd.api.types.is_numeric_dtype(original):
            values = pd.to_numeric(values, errors="coerce")
            out[column] = values if values.isna().any() else values.astype(original)
        else:
            out[column] = values.map(lambda v: v if pd.isna(v) else str(v)).astype(original)
    return pd.DataFrame(out)


def _fairgen_fit(bench: Bench, options: RunOptions,
                 budget_s: float | None) -> tuple[FairGenerator, list[EpochReport], float]:
    config = GeneratorConfig(seed=options.seed, **({"epochs": QUICK_EPOCHS} if options.quick else {}))
    reports: list[EpochReport] = []
    start = time.perf_counter()

    def past_budget() -> bool:
        return time.perf_counter() - start >= budget_s

    model = fit_generator(bench.frame, bench.spec, schema=bench.schema, config=config, split=bench.split,
                          callback=reports.append, should_stop=None if budget_s is None else past_budget)
    return model, reports, time.perf_counter() - start


def _fairgen_settings(reports: Sequence[EpochReport], **extra: Any) -> dict[str, Any]:
    last = reports[-1] if reports else None
    return {"epochs": len(reports), "stopped": last.stopped if last else None,
            "best_val_fid": last.best_fid if last else None, **extra}


def run_fairgen(bench: Bench, options: RunOptions) -> dict[str, Generated]:
    """FairGen with its defaults, rows with the training split's domain counts and exactly balanced; then FairGen
    stopped at each budget shorter than the default fit."""
    model, reports, fit_s = _fairgen_fit(bench, options, None)
    counts = dict(enumerate(bench.train_counts.tolist()))
    rows, sample_s = _timed(lambda: model.sample(counts=counts, seed=options.seed))
    per_domain = bench.n_train // bench.spec.n_domains
    balanced, balanced_s = _timed(lambda: model.sample(per_domain=per_domain, seed=options.seed))
    rate = float(np.median([r.rows_per_s for r in reports])) if reports else None
    checkpoints = []
    for budget in options.budgets:
        if fit_s <= budget:
            checkpoints.append(Generated(rows, fit_s, sample_s, _fairgen_settings(
                reports, budget_s=budget, note="the default fit stopped by itself within the budget")))
            continue
        stopped, stopped_reports, stopped_s = _fairgen_fit(bench, options, budget)
        stopped_rows, stopped_sample_s = _timed(lambda m=stopped: m.sample(counts=counts, seed=options.seed))
        checkpoints.append(Generated(stopped_rows, stopped_s, stopped_sample_s,
                                     _fairgen_settings(stopped_reports, budget_s=budget)))
    return {
        "fairgen": Generated(rows, fit_s, sample_s, _fairgen_settings(reports, domains="training split's counts"),
                             rate, tuple(checkpoints)),
        "fairgen-balanced": Generated(balanced, fit_s, balanced_s, _fairgen_settings(
            reports, domains=f"exactly balanced ({per_domain} per domain; the product's default sampling)"), rate),
    }


class EpochClock:
    """Stands in for ``tqdm`` over a ctgan synthesizer's epoch loop: times every epoch, ends the loop after the
    first epoch that ends past ``deadline_s`` and hands each finished epoch to ``on_epoch(epoch, elapsed_s)``.

    Parameters
    ----------
    start : float
        ``time.perf_counter()`` when ``fit`` was called.
    deadline_s : float
        Seconds after ``start`` past which no further epoch begins.
    on_epoch : callable, optional
        Called after every epoch with its number (from 1) and the seconds since ``start``.
    """

    def __init__(self, start: float, deadline_s: float, on_epoch: Callable[[int, float], None] | None = None):
        self.start, self.deadline_s, self.on_epoch = start, deadline_s, on_epoch
        self.epoch_s: list[float] = []
        self.first_epoch_at: float | None = None

    def __call__(self, iterable: Iterable[int], **_: Any) -> Iterator[int]:
        return self._epochs(iterable)

    def _epochs(self, iterable: Iterable[int]) -> Iterator[int]:
        for epoch in iterable:
            begun = time.perf_counter()
            if self.first_epoch_at is None:
                self.first_epoch_at = begun - self.start
            yield epoch
            now = time.perf_counter()
            self.epoch_s.append(now - begun)
            if self.on_epoch is not None:
                self.on_epoch(epoch + 1, now - self.start)
            if now - self.start >= self.deadline_s:
                return


def _epoch_settings(clock: EpochClock, epochs: int, n_rows: int) -> tuple[dict[str, Any], float | None]:
    median = float(np.median(clock.epoch_s)) if clock.epoch_s else math.nan
    settings = {"epochs": len(clock.epoch_s), "epochs_asked": epochs,
                "preprocessing_s": clock.first_epoch_at, "median_epoch_s": median}
    return settings, (n_rows / median if clock.epoch_s else None)


def run_ctgan(bench: Bench, options: RunOptions, kind: str) -> dict[str, Generated]:
    """CTGAN or TVAE (``kind``) with the library's defaults; CTGAN's generator kept at each budget's last epoch."""
    synthesizers = importlib.import_module("ctgan")
    module = importlib.import_module(f"ctgan.synthesizers.{kind}")
    train = to_peer(bench, bench.train_rows())
    epochs = QUICK_EPOCHS if options.quick else 300
    model = (synthesizers.CTGAN if kind == "ctgan" else synthesizers.TVAE)(epochs=epochs)
    model.set_random_state(options.seed)
    kept: dict[float, tuple[int, float, dict[str, torch.Tensor]]] = {}

    def keep(epoch: int, elapsed: float) -> None:
        state = None
        for budget in options.budgets:
            if elapsed <= budget:
                state = state or copy.deepcopy(model._generator.state_dict())
                kept[budget] = (epoch, elapsed, state)

    start = time.perf_counter()
    clock = EpochClock(start, options.max_fit_s, keep if kind == "ctgan" else None)
    with mock.patch.object(module, "tqdm", clock):
        model.fit(train, list(bench.discrete))
    fit_s = time.perf_counter() - start
    settings, rate = _epoch_settings(clock, epochs, len(train))
    rows, sample_s = _timed(lambda: from_peer(bench, model.sample(bench.n_train)))
    checkpoints = []
    if kind == "ctgan":
        final = copy.deepcopy(model._generator.state_dict())
        for budget in options.budgets:
            if budget not in kept:
                checkpoints.append(Generated(None, budget, 0.0, {"budget_s": budget, "epochs": 0}))
                continue
            epoch, elapsed, state = kept[budget]
            model._generator.load_state_dict(state)
            model.set_random_state(options.seed)
            early, early_s = _timed(lambda: from_peer(bench, model.sample(bench.n_train)))
            checkpoints.append(Generated(early, elapsed, early_s, {"budget_s": budget, "epochs": epoch}))
        model._generator.load_state_dict(final)
    return {kind: Generated(rows, fit_s, sample_s, settings, rate, tuple(checkpoints))}


def run_arf(bench: Bench, options: RunOptions) -> dict[str, Generated]:
    """Adversarial random forests: arfpy's defaults (:data:`ARF_DEFAULTS`) up to :data:`ARF_DEFAULTS_MAX_ROWS`
    training rows, :data:`ARF_REDUCED` above (and in a ``--quick`` run); the forests use ``options.threads`` cores.

    arfpy 0.1.1 reads some Series by position (``series[j]``), which pandas 3 reads by label only: its columns are
    named 0, 1, ... so that both agree, and renamed back in its rows.
    """
    arf = importlib.import_module("arfpy.arf")
    train = to_peer(bench, bench.train_rows())
    train.columns = range(len(bench.columns))
    np.random.seed(options.seed)
    trees, rounds = ARF_REDUCED if options.quick or len(train) > ARF_DEFAULTS_MAX_ROWS else ARF_DEFAULTS
    settings = {"num_trees": trees, "max_iters": rounds, "n_jobs": options.threads}
    start = time.perf_counter()
    # arfpy 0.1.1 prunes its trees with np.in1d, which NumPy 2.4 (the product's pin) removed; np.isin is its
    # documented replacement (the same result for 1-D arrays), lent to arfpy for the fit only.
    with mock.patch.object(np, "in1d", np.isin, create=True):
        model = arf.arf(x=train, num_trees=settings["num_trees"], max_iters=settings["max_iters"], verbose=False,
                        random_state=options.seed, n_jobs=options.threads)
    model.forde()
    fit_s = time.perf_counter() - start
    rows, sample_s = _timed(lambda: from_peer(bench, model.forge(bench.n_train).set_axis(bench.columns, axis=1)))
    return {"arf": Generated(rows, fit_s, sample_s, {**settings, "adversarial_rounds": len(model.acc) - 1})}


def run_tabfairgdt(bench: Bench, options: RunOptions) -> dict[str, Generated]:
    """TabFairGDT with its defaults (λ = 0.5, demographic parity) on the first sensitive attribute."""
    if len(bench.spec.sensitive_columns) != 1:
        raise ValueError("TabFairGDT takes one protected attribute; this specification has "
                         f"{len(bench.spec.sensitive_columns)}.")
    tabfairgdt = importlib.import_module("tabfairgdt")
    train = to_peer(bench, bench.train_rows())
    dtype_map = {c: "category" if c in bench.discrete else "float" if train[c].dtype.kind == "f" else "int"
                 for c in train.columns}
    for column in bench.discrete:
        train[column] = train[column].astype("category")
    model = tabfairgdt.TABFAIRGDT(protected_attribute=bench.spec.sensitive_columns[0], target=bench.spec.label,
                                  dtype_map=dtype_map, seed=options.seed, parallel=options.threads > 1)
    start = time.perf_counter()
    model.fit(train, lamda=TABFAIRGDT_LAMBDA)
    fit_s = time.perf_counter() - start
    rows, sample_s = _timed(lambda: from_peer(bench, model.generate(k=bench.n_train)))
    return {"tabfairgdt": Generated(rows, fit_s, sample_s, {
        "lamda": TABFAIRGDT_LAMBDA, "criterion": "dp", "protected": bench.spec.sensitive_columns[0],
        "parallel": options.threads > 1})}


RUNNERS: Mapping[str, Callable[[Bench, RunOptions], dict[str, Generated]]] = {
    "fairgen": run_fairgen,
    "ctgan": lambda bench, options: run_ctgan(bench, options, "ctgan"),
    "tvae": lambda bench, options: run_ctgan(bench, options, "tvae"),
    "arf": run_arf,
    "tabfairgdt": run_tabfairgdt,
}


def _record(bench: Bench, generated: Generated, seed: int) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        measures = {"error": "no epoch had ended by then"} if generated.rows is None else \
            measure(bench, generated.rows, seed)
    except FairGenError as error:  # rows the measures cannot take (e.g. one label only): timings still count
        measures = {"error": str(error)}
    return {"fit_s": generated.fit_s, "sample_s": generated.sample_s,
            "wall_s": generated.fit_s + generated.sample_s, "rows_per_s": generated.rows_per_s,
            "settings": generated.settings, "measures": measures, "measure_s": time.perf_counter() - start,
            "checkpoints": [_record(bench, c, seed) for c in generated.checkpoints]}


def run_dataset(name: str, peers: Sequence[str], options: RunOptions) -> dict[str, Any]:
    """Every generator of ``peers`` on one dataset; a generator that fails is recorded with its error."""
    bench = load_bench(name, options.seed)
    result: dict[str, Any] = {
        "train_rows": bench.n_train, "test_rows": len(bench.test), "columns": list(bench.columns),
        "features": list(bench.encoder.columns), "domains": list(bench.real.domain_names),
        "train_domain_counts": bench.train_counts.tolist(), "generators": {}}
    for peer in peers:
        print(f"[{name}] {peer} ...", file=sys.stderr, flush=True)
        try:
            for label, generated in RUNNERS[peer](bench, options).items():
                result["generators"][label] = _record(bench, generated, options.seed)
                print(f"[{name}] {label}: fit {generated.fit_s:.1f} s, sample {generated.sample_s:.1f} s",
                      file=sys.stderr, flush=True)
        except Exception as error:  # one failing peer must not end an hour-long run
            traceback.print_exc()
            result["generators"][peer] = {"error": f"{type(error).__name__}: {error}"}
    return result


# -- the tables ---------------------------------------------------------------------------------------
def _number(value: Any, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _settings_text(label: str, settings: Mapping[str, Any]) -> str:
    if label.startswith("fairgen"):
        return f"{settings['epochs']} epochs ({settings['stopped']})"
    if label in ("ctgan", "tvae"):
        return f"{settings['epochs']} of {settings['epochs_asked']} epochs"
    if label == "arf":
        rounds = settings["adversarial_rounds"]
        return f"{settings['num_trees']} trees, {rounds} round{'s' * (rounds != 1)}"
    return f"λ = {settings['lamda']}"


#: The fairness gaps of the TSTR model in the tables (TRTR's are in each dataset's heading).
TABLE_GAPS = (("abs_equal_opportunity_difference", "\\|EqOpp\\|"), ("average_abs_odds_difference", "avg \\|odds\\|"))
QUALITY_HEADER = ("shapes | trends | detection | TSTR bal. acc. | "
                  + " | ".join(f"TSTR {title}" for _, title in TABLE_GAPS) + " | valid rows")
QUALITY_CELLS = 5 + len(TABLE_GAPS)


def _quality_cells(measures: Mapping[str, Any]) -> str:
    if "error" in measures:
        return f"not measured: {measures['error']}" + " |" * (QUALITY_CELLS - 1)
    tstr = measures["tstr_fairness"]["tstr"]
    return " | ".join([_number(measures["shapes"]), _number(measures["trends"]), _number(measures["detection"]),
                       _number(measures["tstr"]["tstr_balanced_accuracy"]),
                       *(_number(tstr[gap]) for gap, _ in TABLE_GAPS), _number(measures["validity"]["share"])])


def _yardstick(dataset: Mapping[str, Any]) -> str:
    """TRTR's numbers and the real rows' validity (the same for every generator: same rows, same seed)."""
    measured = next((r["measures"] for r in dataset["generators"].values()
                     if "error" not in r and "error" not in r["measures"]), None)
    if measured is None:
        return ""
    trtr = measured["tstr_fairness"]["trtr"]
    gaps = ", ".join(f"{title} {_number(trtr[gap])}" for gap, title in TABLE_GAPS)
    return (f"; trained on real rows (TRTR): balanced accuracy {_number(measured['tstr']['trtr_balanced_accuracy'])}, "
            f"{gaps}; real test rows keeping every rule: {_number(measured['validity']['real_share'])}")


def markdown(results: Mapping[str, Any]) -> str:
    """The tables of ``docs/benchmarks.md``: per dataset every generator, then FairGen and CTGAN at equal wall time."""
    lines = []
    for name, dataset in results["datasets"].items():
        lines += [f"**{name}** ({dataset['train_rows']:,} training rows, {dataset['test_rows']:,} test rows"
                  f"{_yardstick(dataset)})", "",
                  f"| generator | run | fit + sample s | train rows/s | {QUALITY_HEADER} |",
                  "|---|---|---:|---:|" + "---:|" * QUALITY_CELLS]
        for label, record in dataset["generators"].items():
            if "error" in record:
                lines.append(f"| {label} | failed: {record['error'][:100]} |" + " |" * (QUALITY_CELLS + 2))
                continue
            rate = "–" if record["rows_per_s"] is None else f"{record['rows_per_s']:,.0f}"
            lines.append(f"| {label} | {_settings_text(label, record['settings'])} | "
                         f"{record['fit_s']:.1f} + {record['sample_s']:.1f} | {rate} | "
                         f"{_quality_cells(record['measures'])} |")
        rows = [(c["settings"]["budget_s"], label, c) for label in ("fairgen", "ctgan")
                for c in dataset["generators"].get(label, {}).get("checkpoints", [])]
        if rows:
            lines += ["", f"| budget s | generator | fitted s | epochs | {QUALITY_HEADER} |",
                      "|---:|---|---:|---:|" + "---:|" * QUALITY_CELLS]
        for budget, label, checkpoint in sorted(rows, key=lambda r: (r[0], r[1] != "fairgen")):
            lines.append(f"| {budget:g} | {label} | {checkpoint['fit_s']:.1f} | {checkpoint['settings']['epochs']} | "
                         f"{_quality_cells(checkpoint['measures'])} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="built-in datasets, comma-separated")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"generators, comma-separated ({', '.join(PEERS)})")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "generators_vs_peers.json"))
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_EPOCHS} epochs, small forests, budgets {QUICK_BUDGETS} s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-fit-s", type=float, default=240.0,
                        help="CTGAN and TVAE begin no epoch after this many seconds of fitting")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of every generator (torch, BLAS/OpenMP, ARF's forests, TabFairGDT's "
                             "column fits); default: the product's thread budget ($FAIRGEN_THREADS, else a fair "
                             "share of the cores)")
    parser.add_argument("--markdown-only", metavar="FILE", help="print the tables of a results file and exit")
    args = parser.parse_args()
    if args.markdown_only:
        print(markdown(json.loads(Path(args.markdown_only).read_text())))
        return
    peers = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown generator(s): {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    threads = apply_thread_budget(args.threads)
    warm_up()
    options = RunOptions(args.seed, args.quick, QUICK_BUDGETS if args.quick else BUDGETS, args.max_fit_s, threads)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": " ".join(sys.argv), "seed": args.seed, "quick": args.quick, "threads": threads,
        "cores": len(os.sched_getaffinity(0)), "load_average_at_start": os.getloadavg(),
        "budgets_s": list(options.budgets), "max_fit_s": args.max_fit_s,
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in VERSIONED}},
        "datasets": {}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in (d for d in args.datasets.split(",") if d):
        results["datasets"][name] = run_dataset(name, peers, options)
        results["total_s"] = time.perf_counter() - started
        results["load_average_at_end"] = os.getloadavg()
        out.write_text(json.dumps(_plain(results), indent=1))
    print(markdown(results))
    print(f"wrote {out} in {results['total_s']:.0f} s", file=sys.stderr)


def warm_up() -> None:
    """Pay the process's one-off costs before any timing: torch imports its compiler stack when the first
    optimiser is made (seconds), which would otherwise be charged to whichever generator fits first."""
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _plain(value: Any) -> Any:
    """JSON-ready: NumPy scalars as Python numbers, NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


if __name__ == "__main__":
    main()
