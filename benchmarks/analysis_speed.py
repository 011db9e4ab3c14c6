"""Where the time of the analyses goes: every cell of the ratio sweep and every comparison method, profiled.

    .venv/bin/python benchmarks/analysis_speed.py [--datasets german compas adult] [--reps 1] [--threads N]
        [--out benchmarks/results/analysis_speed.json]

Per dataset (its default spec and split, seed 0) it fits a generator for ONE epoch (default settings otherwise):
the sweep and the methods only use its encoder, its translator for the synthetic pairs and its prior sampler for
the pre-training rows, whose cost does not depend on how well it was trained, so a 1-epoch generator times the
classifiers as a converged one would (the epochs the classifiers run may differ: they depend on the data).

It then runs today's ``ratio_sweep`` (default ratios, the "transfer + thresholds" cell at 0.5, the down-sampling
ablation) and ``evaluate_method`` for every registered method, with the library's own functions wrapped to count
and time, per cell:

* ``wall_s``: the cell's wall time; ``epochs``: training epochs run (``train_classifier``'s loop; for methods with
  their own loop, adversarial debiasing and LAFTR: the epochs they recorded); ``s_per_epoch``;
* ``batching_s``: building the batches (index draws, gathers, concatenation: the data movement of the loop);
* ``predict_s``: scoring validation and test rows after every epoch (early stopping and the selection rule);
* ``steps_s``: forward, backward and Adam steps (``train_classifier``'s epochs minus the batching);
* ``other_s``: the rest (method-specific work: aif360/sklearn fits, own training loops, pair translation, ...).

One fine-tuning cell (ratio 0.5) is also run under cProfile; its top functions by own time are stored. The
threads are the product's budget (:func:`fairgen_core.devices.apply_thread_budget`) unless ``--threads`` is given.
Results: a JSON file and a printed table (``docs/benchmarks.md`` quotes them).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.classifier import selection, sweep, training  # noqa: E402
from fairgen_core.config import ClassifierConfig, GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.splits import default_split  # noqa: E402
from fairgen_core.devices import apply_thread_budget  # noqa: E402
from fairgen_core.generator import fit_generator  # noqa: E402
from fairgen_core.mitigations import METHODS, evaluate_method, method_data  # noqa: E402


@dataclass
class Counters:
    """Running totals of the wrapped library functions."""

    epochs: int = 0
    candidates: int = 0
    epoch_s: float = 0.0
    batching_s: float = 0.0
    predict_s: float = 0.0


@dataclass(frozen=True)
class Cell:
    """One profiled cell."""

    dataset: str
    analysis: str
    cell: str
    wall_s: float
    epochs: int
    s_per_epoch: float | None
    batching_s: float
    predict_s: float
    steps_s: float
    other_s: float


class Profiler:
    """Wraps the classifier's training functions and cuts their totals into cells at :meth:`mark`."""

    def __init__(self, dataset: str) -> None:
        self.dataset, self.totals, self.cells = dataset, Counters(), []
        self._since, self._at = Counters(), time.perf_counter()
        self._install()

    def _install(self) -> None:
        totals = self.totals
        train_epoch, batches, predict, record = (training._train_epoch, training.mixed_batches, training.predict,
                                                 selection.EpochRecorder.record)

        def timed_epoch(*args: Any, **kwargs: Any) -> float:
            started = time.perf_counter()
            try:
                return train_epoch(*args, **kwargs)
            finally:
                totals.epochs += 1
                totals.epoch_s += time.perf_counter() - started

        def timed_batches(*args: Any, **kwargs: Any) -> Iterator[training.Batch]:
            produced = batches(*args, **kwargs)
            while True:
                started = time.perf_counter()
                batch = next(produced, None)
                totals.batching_s += time.perf_counter() - started
                if batch is None:
                    return
                yield batch

        def timed_predict(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return predict(*args, **kwargs)
            finally:
                totals.predict_s += time.perf_counter() - started

        def counted_record(recorder: Any, *args: Any, **kwargs: Any) -> None:
            totals.candidates += 1
            record(recorder, *args, **kwargs)

        training._train_epoch, training.mixed_batches, training.predict = timed_epoch, timed_batches, timed_predict
        selection.EpochRecorder.record = counted_record  # type: ignore[method-assign]

    def reset(self) -> None:
        """Start a new cell now (what ran since is not recorded)."""
        self._since, self._at = replace(self.totals), time.perf_counter()

    def mark(self, analysis: str, cell: str) -> None:
        """Close the cell that started at the last mark or reset."""
        now, was = time.perf_counter(), self._since
        wall = now - self._at
        epochs = self.totals.epochs - was.epochs
        recorded = self.totals.candidates - was.candidates
        batching = self.totals.batching_s - was.batching_s
        steps = self.totals.epoch_s - was.epoch_s - batching
        predict = self.totals.predict_s - was.predict_s
        if not epochs:  # a method with its own loop: one recorded candidate per epoch
            epochs = recorded
        self.cells.append(Cell(self.dataset, analysis, cell, wall, epochs, wall / epochs if epochs else None,
                               batching, predict, steps, wall - batching - predict - steps))
        self.reset()


def _marking(profiler: Profiler, function: Callable[..., Any], before: str | None, after: str) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            profiler.mark("sweep", before)
        result = function(*args, **kwargs)
        profiler.mark("sweep", after)
        return result
    return wrapped


def profile_dataset(name: str, reps: int, config: ClassifierConfig, profile_top: int) -> dict[str, Any]:
    """Fit a 1-epoch generator, then profile the sweep, the methods and one fine-tuning cell of ``name``."""
    dataset = get_builtin(name)
    frame, spec = dataset.load(), dataset.default_spec()
    split = default_split(frame, spec, seed=0)
    started = time.perf_counter()
    generator = fit_generator(frame, spec, schema=dataset.schema(frame), split=split,
                              config=GeneratorConfig(epochs=1, patience=0, device=config.device))
    generator_s = time.perf_counter() - started
    profiler = Profiler(name)
    originals = sweep.synthetic_pairs, sweep.pretrain, sweep.threshold_candidates
    sweep.synthetic_pairs = _marking(profiler, sweep.synthetic_pairs, "setup (encode rows)", "synthetic pairs")
    sweep.pretrain = _marking(profiler, sweep.pretrain, None, "pre-training")
    sweep.threshold_candidates = _marking(profiler, sweep.threshold_candidates, None, "thresholds at 0.5")

    def progress(done: int, _total: int, last: str) -> None:
        if done:
            profiler.mark("sweep", last.rsplit(",", 1)[0] if reps == 1 else last)
        else:
            profiler.reset()

    sweep_started = time.perf_counter()
    sweep.ratio_sweep(generator, frame, split, repetitions=reps, config=config, thresholds_ratio=0.5,
                      selections=selection.SELECTION_RULES, progress=progress)
    profiler.mark("sweep", "selection and test metrics")
    sweep_s = time.perf_counter() - sweep_started
    sweep.synthetic_pairs, sweep.pretrain, sweep.threshold_candidates = originals
    methods_started = time.perf_counter()
    data = method_data(generator, frame, split)
    profiler.mark("methods", "setup (method data)")
    skipped = {}
    for repetition in range(reps):
        for method in METHODS:
            result = evaluate_method(method, data, config, seed=config.seed + repetition,
                                     selections=selection.SELECTION_RULES)[0]
            profiler.mark("methods", method)
            if result.skipped_reason:
                skipped[method] = result.skipped_reason
    methods_s = time.perf_counter() - methods_started
    return {"dataset": name, "rows": len(frame), "train_rows": len(split.train), "generator_1_epoch_s": generator_s,
            "sweep_s": sweep_s, "methods_s": methods_s, "skipped": skipped,
            "cells": [asdict(cell) for cell in profiler.cells],
            "finetune_profile": _profile_finetune(generator, frame, split, config, profile_top)}


def _profile_finetune(generator: Any, frame: Any, split: Any, config: ClassifierConfig, top: int) -> dict[str, Any]:
    """cProfile of one "transfer" cell at ratio 0.5 (pre-training outside the profile)."""
    x_train, y_train, d_train = training.encode_rows(generator, frame, split.train)
    x_val, y_val, d_val = training.encode_rows(generator, frame, split.val)
    x_test, _, _ = training.encode_rows(generator, frame, split.test)
    x_pairs, y_pairs, d_pairs = training.synthetic_pairs(generator, x_train, d_train, config.seed, pairs=config.pairs)
    w_real, w_pairs = training.balanced_weights(config, d_train, d_pairs)
    base = training.pretrain(generator, x_val, y_val, config)
    recorder = selection.EpochRecorder(selection.Validation(y_val, d_val // 2, ("a", "b")), [])
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    training.finetune(base, x_train, y_train, x_pairs, y_pairs, x_val, y_val, ratio=0.5, config=config,
                      sample_weight=w_real, pair_weight=w_pairs,
                      on_epoch=training.recording(recorder, x_val, x_test, ratio=0.5))
    profile.disable()
    wall = time.perf_counter() - started
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    rows = [{"function": pstats.func_std_string(func), "calls": calls, "tottime_s": tottime, "cumtime_s": cumtime}
            for func, (_, calls, tottime, cumtime, _) in sorted(stats.stats.items(),  # type: ignore[attr-defined]
                                                                  key=lambda item: -item[1][2])[:top]]
    shares: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        shares[_category(filename, function)] = shares.get(_category(filename, function), 0.0) + tottime
    return {"wall_s": wall, "profiled_total_s": stats.total_tt,  # type: ignore[attr-defined]
            "epochs": len(recorder.candidates) - 1, "own_time_by_kind_s": shares, "top": rows}


def _category(filename: str, function: str) -> str:
    """What a profiled function's own time is: torch's C++ operators, or which Python."""
    if filename == "~":
        return "torch operators (C++)" if "torch" in function else "other built-ins (NumPy, Python)"
    if "torch/optim" in filename:
        return "Adam's Python"
    if "torch/" in filename:
        return "torch's Python (module calls, autograd)"
    if filename.endswith("classifier/training.py") and function in ("mixed_batches", "_take"):
        return "batching Python"
    if "fairgen_core/" in filename:
        return "FairGen Python (loop, selection, metrics)"
    return "other Python (pandas, NumPy, copy)"


def _print(results: list[dict[str, Any]]) -> None:
    print("| dataset | analysis | cell | wall s | epochs | s/epoch | batching s | predict s | steps s | other s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        for cell in result["cells"]:
            per = "" if cell["s_per_epoch"] is None else f"{cell['s_per_epoch']:.3f}"
            print(f"| {cell['dataset']} | {cell['analysis']} | {cell['cell']} | {cell['wall_s']:.2f} | "
                  f"{cell['epochs']} | {per} | {cell['batching_s']:.2f} | {cell['predict_s']:.2f} | "
                  f"{cell['steps_s']:.2f} | {cell['other_s']:.2f} |")
        print(f"\n{result['dataset']}: sweep {result['sweep_s']:.1f} s, methods {result['methods_s']:.1f} s, "
              f"1-epoch generator {result['generator_1_epoch_s']:.1f} s; skipped: {result['skipped'] or 'none'}")
        profile = result["finetune_profile"]
        print(f"cProfile of one transfer cell (ratio 0.5): {profile['wall_s']:.2f} s, {profile['epochs']} epochs")
        for kind, seconds in sorted(profile["own_time_by_kind_s"].items(), key=lambda item: -item[1]):
            print(f"  {seconds:7.2f} s  {kind}")
        for row in profile["top"]:
            print(f"  {row['tottime_s']:7.2f} s own  {row['calls']:8d} calls  {row['function']}")
        print()


def main() -> None:
    """Profile every dataset asked for; print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["german", "compas", "adult"])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the product's budget)")
    parser.add_argument("--top", type=int, default=15, help="functions kept from the cProfile")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "analysis_speed.json")
    args = parser.parse_args()
    threads = apply_thread_budget(args.threads)
    config = ClassifierConfig(device="cpu")
    results = []
    for name in args.datasets:
        results.append(profile_dataset(name, args.reps, config, args.top))
        args.out.write_text(json.dumps({"threads": threads, "reps": args.reps, "results": results}, indent=1))
    print(f"threads: {threads}, repetitions: {args.reps}\n")
    _print(results)


if __name__ == "__main__":
    main()
