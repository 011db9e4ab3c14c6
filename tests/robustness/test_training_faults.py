"""Training faults: a diverging loss, running out of memory, a worker that fails mid-run.

A killed worker reported as failed and Stop within a few seconds are tested with real worker processes
in ``tests/test_jobs.py`` (``test_a_killed_worker_is_reported_failed_not_running``,
``test_stop_ends_a_run_within_seconds_and_keeps_its_checkpoint``).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import torch

from fairgen_core.config import GeneratorConfig
from fairgen_core.data.sources import open_data
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute
from fairgen_core.errors import FairGenError, TrainingDivergedError
from fairgen_core.generator import EpochReport, FairGenerator, fit_generator, losses, training
from fairgen_core.progress import ProgressBar
from fairgen_core.runs import jobs, worker
from fairgen_core.runs.jobs import TrainingJob, start_training
from fairgen_core.runs.process import JobState
from fairgen_core.runs.store import RunDir
from tests.app.conftest import fresh_app, open_run_page

SPEC = DatasetSpec("y", (1,), (SensitiveAttribute("group", ("a",)),))


def _table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], rows)
    return pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.choice(["p", "q", "r"], rows),
                         "group": group, "y": (rng.random(rows) < np.where(group == "a", 0.6, 0.3)).astype(int)})


def poison_reconstruction_after(monkeypatch, epochs_ok: int) -> Callable[[EpochReport], None]:
    """Make the reconstruction loss NaN once ``epochs_ok`` epochs have ended; returns the epoch callback."""
    finished = {"epochs": 0}
    clean = losses.reconstruction_l1

    def reconstruction(x, x_hat):
        value = clean(x, x_hat)
        return value * float("nan") if finished["epochs"] >= epochs_ok else value

    monkeypatch.setattr(losses, "reconstruction_l1", reconstruction)
    return lambda report: finished.update(epochs=report.epoch)


def test_nan_loss_stops_with_the_term_and_epoch_and_keeps_the_last_good_checkpoint(monkeypatch, tmp_path) -> None:
    callback = poison_reconstruction_after(monkeypatch, epochs_ok=2)
    checkpoint = tmp_path / "model.pt"
    with pytest.raises(TrainingDivergedError) as caught:
        fit_generator(_table(600), SPEC, config=GeneratorConfig(epochs=5, device="cpu", seed=0),
                      callback=callback, checkpoint_path=checkpoint)
    message = str(caught.value)
    assert "the loss term 'rec' became nan at epoch 3, step 1" in message
    assert f"The checkpoint of epoch 2, the last good one, is kept in {checkpoint}" in message
    assert "Lower the learning rate (now 0.002)" in message
    kept = FairGenerator.load(checkpoint, device="cpu")
    assert [h["epoch"] for h in kept.history] == [1, 2]
    rows = kept.sample(per_domain=10, seed=0)
    assert len(rows) == 40 and np.isfinite(rows["x1"]).all()
    assert all(torch.isfinite(p).all() for p in kept.translator.parameters())


def test_nan_in_the_first_epoch_says_no_checkpoint_exists(monkeypatch, tmp_path) -> None:
    poison_reconstruction_after(monkeypatch, epochs_ok=0)
    with pytest.raises(TrainingDivergedError, match="at epoch 1, step 1. No checkpoint had been written yet"):
        fit_generator(_table(300), SPEC, config=GeneratorConfig(epochs=3, device="cpu"),
                      checkpoint_path=tmp_path / "model.pt")
    assert not (tmp_path / "model.pt").exists()


def test_worker_marks_a_diverged_run_failed_with_the_message_and_keeps_its_model(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(jobs, "launch", lambda *args, **kwargs: None)  # run the worker in this process instead
    source = open_data("german")
    job = start_training(tmp_path / "runs", source, source.default_spec, source.schema,
                         GeneratorConfig(epochs=4, device="cpu", seed=1), queue_dir=tmp_path / "queue")
    clean = losses.reconstruction_l1
    calls = {"n": 0}

    def nan_after_first_epoch(x, x_hat):  # German: 16 steps per epoch, so NaN from epoch 2 on
        calls["n"] += 1
        value = clean(x, x_hat)
        return value if calls["n"] <= 16 else value * float("nan")

    monkeypatch.setattr(losses, "reconstruction_l1", nan_after_first_epoch)
    assert worker.run_job(job.path) == 1
    status = TrainingJob(job.path).status()
    assert status.state is JobState.FAILED
    assert status.message.startswith("training diverged: the loss term 'rec' became nan at epoch 2")
    run = RunDir(job.path)
    assert [line["epoch"] for line in run.read_progress()] == [1]
    assert FairGenerator.load(run.model_path, device="cpu").history[-1]["epoch"] == 1


def _out_of_memory_above(monkeypatch, rows: int) -> None:
    """Every generator step on a batch larger than ``rows`` raises the CUDA out-of-memory error."""
    step = training._Trainer.generator_step

    def generator_step(self, x, domain):
        if len(x) > rows:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return step(self, x, domain)

    monkeypatch.setattr(training._Trainer, "generator_step", generator_step)


def test_out_of_memory_halves_the_batch_and_says_so(monkeypatch) -> None:
    _out_of_memory_above(monkeypatch, rows=40)
    reports: list[EpochReport] = []
    table = _table(3_200)  # 2,240 training rows: batch 140
    model = fit_generator(table, SPEC, config=GeneratorConfig(epochs=2, device="cpu"), callback=reports.append)
    assert [r.epoch for r in reports] == [1, 2]
    assert reports[0].notice == ("CPU out of memory at batch size 140: the epoch restarted with batch size 70. "
                                 "CPU out of memory at batch size 70: the epoch restarted with batch size 35.")
    assert reports[1].notice is None
    assert model.history[0]["notice"] == reports[0].notice
    assert len(reports[1].step_losses.generator) == 2_240 // 35


def test_out_of_memory_at_the_smallest_batch_on_the_cpu_is_a_clear_error(monkeypatch) -> None:
    _out_of_memory_above(monkeypatch, rows=8)
    with pytest.raises(FairGenError, match="out of memory at batch size 35 on the CPU: lower hidden_dim"):
        fit_generator(_table(3_200), SPEC, config=GeneratorConfig(epochs=1, device="cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_out_of_memory_at_the_smallest_batch_moves_training_to_the_cpu(monkeypatch) -> None:
    step = training._Trainer.generator_step

    def generator_step(self, x, domain):
        if x.is_cuda:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return step(self, x, domain)

    monkeypatch.setattr(training._Trainer, "generator_step", generator_step)
    reports: list[EpochReport] = []
    model = fit_generator(_table(3_200), SPEC, config=GeneratorConfig(epochs=2, device="cuda"),
                          callback=reports.append)
    assert "GPU out of memory even at batch size 35: training continues on the CPU" in reports[0].notice
    assert model.device.type == "cpu" and next(model.translator.parameters()).device.type == "cpu"
    assert len(model.sample(per_domain=5, seed=0)) == 20


def test_train_page_shows_the_divergence_and_the_memory_fallback_of_a_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(jobs, "launch", lambda *args, **kwargs: None)
    raw = _table(3_200).to_csv(index=False).encode()
    source = open_data(raw, name="people.csv")
    job = start_training(tmp_path / "runs", source, SPEC, source.schema, GeneratorConfig(epochs=4, device="cpu"),
                         source_bytes=raw, queue_dir=tmp_path / "queue")
    _out_of_memory_above(monkeypatch, rows=40)
    clean, calls = losses.reconstruction_l1, {"n": 0}

    def nan_in_epoch_two(x, x_hat):  # 2,240 training rows at batch 35: 64 steps in epoch 1
        calls["n"] += 1
        return clean(x, x_hat) * (float("nan") if calls["n"] > 64 else 1.0)

    monkeypatch.setattr(losses, "reconstruction_l1", nan_in_epoch_two)
    assert worker.run_job(job.path) == 1
    at = open_run_page(fresh_app(), "../pages/train.py", job.path)
    assert any("training diverged: the loss term 'rec' became nan at epoch 2" in e.value for e in at.error)
    assert any("out of memory at batch size 140: the epoch restarted with batch size 70" in w.value
               for w in at.warning)


def test_cli_progress_prints_the_notice_under_its_epoch(monkeypatch) -> None:
    _out_of_memory_above(monkeypatch, rows=40)
    stream = io.StringIO()
    bar = ProgressBar(stream)
    fit_generator(_table(3_200), SPEC, config=GeneratorConfig(epochs=2, device="cpu"), callback=bar.update)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("epoch 1/2") and lines[2].startswith("epoch 2/2")
    assert lines[1] == ("notice: CPU out of memory at batch size 140: the epoch restarted with batch size 70. "
                        "CPU out of memory at batch size 70: the epoch restarted with batch size 35.")
