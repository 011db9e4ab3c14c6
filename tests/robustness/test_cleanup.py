"""Retention of old run folders: age and size bounds, active runs kept, dry run, env, symlinks, CLI, dashboard."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from fairgen_core.cli import main
from fairgen_core.config import MAX_AGE_ENV, MAX_GB_ENV, RetentionPolicy, default_runs_base
from fairgen_core.errors import FairGenError
from fairgen_core.runs import retention
from fairgen_core.runs.jobs import JobStatus, write_status
from fairgen_core.runs.layout import SESSION_FOLDER
from fairgen_core.runs.process import JobState
from fairgen_core.runs.retention import PruneReport, prune_runs

DAY = 86_400.0
KB = 1e-6  # 1000 bytes in GB


def touch_all(folder: Path, age_days: float, now: float) -> None:
    """Give every file in ``folder`` (links excepted) the modification time ``age_days`` before ``now``."""
    when = now - age_days * DAY
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (when, when))


def make_run(folder: Path, age_days: float, now: float, *, size: int = 1000, marker: str = "job.json") -> Path:
    """A finished run folder of exactly ``size`` bytes, last modified ``age_days`` before ``now``."""
    folder.mkdir(parents=True)
    (folder / marker).write_text("{}")
    (folder / "model.pt").write_bytes(b"x" * (size - 2))
    touch_all(folder, age_days, now)
    return folder


def make_training(folder: Path, age_days: float, now: float) -> Path:
    """An old run whose worker is alive (this process) with a fresh heartbeat: active, whatever its files' ages."""
    make_run(folder, age_days, now)
    beat = time.time()
    write_status(folder, JobStatus(JobState.RUNNING, os.getpid(), beat, beat, beat, beat))
    touch_all(folder, age_days, now)
    return folder


def make_analysing(folder: Path, age_days: float, now: float) -> Path:
    """An old finished run with a sweep running in it (its process: this one)."""
    make_run(folder, age_days, now)
    (folder / "sweep.task.json").write_text(json.dumps({"pid": os.getpid(), "started": time.time(), "options": []}))
    touch_all(folder, age_days, now)
    return folder


def removed(report: PruneReport) -> list[tuple[str, str]]:
    return [(run.path.name, run.reason) for run in report.removed]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "runs"


def test_runs_older_than_the_age_bound_are_removed(base: Path) -> None:
    now = time.time()
    old = make_run(base / "ws1" / "old", 40, now)
    make_run(base / "ws1" / "recent", 10, now)
    direct = make_run(base / "direct-old", 31, now, marker="manifest.json")  # fit --out BASE/RUN
    touched = make_run(base / "ws2" / "touched", 60, now)
    (touched / "sub").mkdir()
    (touched / "sub" / "progress.jsonl").write_text("{}\n")  # a nested file modified yesterday keeps it
    touch_all(touched / "sub", 1, now)
    report = prune_runs(base, RetentionPolicy(max_age_days=30, max_total_gb=None), now=now)
    assert removed(report) == [("old", "age"), ("direct-old", "age")]
    assert not old.exists() and not direct.exists()
    assert (base / "ws1" / "recent").is_dir() and touched.is_dir()
    assert report.freed_bytes == 2000 and report.bytes_before == 4000 + 3
    assert report.bytes_after == report.bytes_before - 2000
    assert report.removed[0].modified == pytest.approx(now - 40 * DAY)
    assert report.errors == () and not report.dry_run


def test_size_bound_removes_the_least_recently_modified_until_under_it(base: Path) -> None:
    now = time.time()
    for name, age in (("a", 2), ("b", 5), ("c", 3), ("d", 4)):
        make_run(base / ("ws1" if name in "ab" else "ws2") / name, age, now)
    make_run(base / "e", 6, now)  # directly under base: the oldest of all
    report = prune_runs(base, RetentionPolicy(max_age_days=None, max_total_gb=2.5 * KB), now=now)
    assert removed(report) == [("e", "size"), ("b", "size"), ("d", "size")]
    assert sorted(p.name for p in base.rglob("*") if p.is_dir()) == ["a", "c", "ws1", "ws2"]
    assert (report.bytes_before, report.bytes_after, report.freed_bytes) == (5000, 2000, 3000)


def test_age_pass_comes_first_then_size_counts_what_is_left(base: Path) -> None:
    now = time.time()
    make_run(base / "ws" / "ancient", 100, now, size=3000)
    make_run(base / "ws" / "older", 20, now)
    make_run(base / "ws" / "newer", 10, now)
    report = prune_runs(base, RetentionPolicy(max_age_days=30, max_total_gb=1.5 * KB), now=now)
    assert removed(report) == [("ancient", "age"), ("older", "size")]
    assert (base / "ws" / "newer").is_dir()


def test_active_runs_are_never_removed_and_count_towards_the_size(base: Path) -> None:
    now = time.time()
    training = make_training(base / "ws" / "training", 90, now)
    analysing = make_analysing(base / "ws" / "analysing", 80, now)
    make_run(base / "ws" / "done", 70, now)
    report = prune_runs(base, RetentionPolicy(max_age_days=30, max_total_gb=KB / 1000), now=now)
    assert removed(report) == [("done", "age")]
    assert training.is_dir() and analysing.is_dir()
    assert sorted(report.kept_active) == sorted([training.resolve(), analysing.resolve()])
    assert report.bytes_after == report.bytes_before - 1000 > 1  # still over the bound: active runs stay


def test_a_run_that_was_active_but_whose_worker_died_is_pruned(base: Path) -> None:
    now = time.time()
    run = make_run(base / "ws" / "crashed", 40, now)
    write_status(run, JobStatus(JobState.RUNNING, 2**22 + 12345, now, now, now, now))  # no such process
    touch_all(run, 40, now)
    assert removed(prune_runs(base, RetentionPolicy(30, None), now=now)) == [("crashed", "age")]


def test_a_run_modified_in_the_last_minutes_survives_the_size_bound(base: Path) -> None:
    now = time.time()
    make_run(base / "ws" / "old", 3, now)
    being_written = make_run(base / "ws" / "new", 0, now, size=5000)  # job.json without status.json yet
    report = prune_runs(base, RetentionPolicy(None, KB), now=now)
    assert removed(report) == [("old", "size")] and being_written.is_dir()


def test_dry_run_deletes_nothing_but_reports_the_same(base: Path) -> None:
    now = time.time()
    for name, age in (("a", 40), ("b", 20), ("c", 10)):
        make_run(base / "ws" / name, age, now)
    policy = RetentionPolicy(max_age_days=30, max_total_gb=1.5 * KB)
    before = sorted(str(p) for p in base.rglob("*"))
    dry = prune_runs(base, policy, now=now, dry_run=True)
    assert sorted(str(p) for p in base.rglob("*")) == before
    assert dry.dry_run and removed(dry) == [("a", "age"), ("b", "size")] and dry.bytes_after == 1000
    real = prune_runs(base, policy, now=now)
    assert removed(real) == removed(dry) and real.bytes_after == dry.bytes_after
    assert sorted(p.name for p in (base / "ws").iterdir()) == ["c"]


def test_queue_folder_other_folders_and_workspaces_in_use_survive(base: Path) -> None:
    now = time.time()
    for queue in (base / ".fairgen-queue", base / "ws1" / ".fairgen-queue"):
        queue.mkdir(parents=True)
        (queue / "slot-0.lock").write_text("")
        (queue / "job.json").write_text("{}")  # even if it looked like a run
        touch_all(queue, 400, now)
    make_run(base / "ws1" / "old", 40, now)
    make_run(base / "ws2" / "old", 40, now)
    (base / "ws2" / "notes").mkdir()  # not a run: kept, and keeps its workspace
    make_run(base / "ws3" / "old", 40, now)
    (base / "empty").mkdir()  # an empty workspace pruning did not empty is left alone
    (base / "stray.txt").write_text("not a run")
    os.utime(base / "stray.txt", (now - 400 * DAY,) * 2)
    report = prune_runs(base, RetentionPolicy(30, KB / 1000), now=now)
    assert sorted(run.path.parent.name for run in report.removed) == ["ws1", "ws2", "ws3"]
    assert report.removed_workspaces == ((base / "ws3").resolve(),)
    assert (base / ".fairgen-queue" / "slot-0.lock").is_file() and (base / ".fairgen-queue" / "job.json").is_file()
    assert (base / "ws1" / ".fairgen-queue" / "slot-0.lock").is_file()
    assert (base / "ws2" / "notes").is_dir() and (base / "empty").is_dir() and (base / "stray.txt").is_file()
    assert not (base / "ws3").exists()


def test_symbolic_links_are_never_followed_out_of_the_base(base: Path, tmp_path: Path) -> None:
    now = time.time()
    outside = tmp_path / "outside"
    foreign_run = make_run(outside / "run", 400, now)
    foreign_ws = make_run(outside / "workspace" / "run", 400, now).parent
    secret = outside / "secret.csv"
    secret.write_text("keep me")
    own = make_run(base / "ws" / "own", 400, now)
    (own / "data.csv").symlink_to(secret)
    os.utime(own / "data.csv", (now - 400 * DAY,) * 2, follow_symlinks=False)
    (base / "ws" / "linked-run").symlink_to(foreign_run, target_is_directory=True)
    (base / "linked-ws").symlink_to(foreign_ws, target_is_directory=True)
    report = prune_runs(base, RetentionPolicy(1, KB / 1000), now=now)
    assert removed(report) == [("own", "age")] and not own.exists()
    assert secret.read_text() == "keep me"
    assert (foreign_run / "job.json").is_file() and (foreign_ws / "run" / "model.pt").is_file()
    assert (base / "ws" / "linked-run").is_symlink() and (base / "linked-ws").is_symlink()
    assert report.bytes_before == 1000 + len(str(secret))  # the link's own size, not its target's


def test_a_symlinked_base_is_pruned_inside_only(tmp_path: Path) -> None:
    now = time.time()
    real = tmp_path / "disk" / "runs"
    make_run(real / "ws" / "old", 40, now)
    (tmp_path / "runs").symlink_to(real, target_is_directory=True)
    report = prune_runs(tmp_path / "runs", RetentionPolicy(30, None), now=now)
    assert removed(report) == [("old", "age")] and real.is_dir() and (tmp_path / "runs").is_symlink()


def test_missing_base_is_nothing_to_prune(tmp_path: Path) -> None:
    report = prune_runs(tmp_path / "nowhere", RetentionPolicy())
    assert report == PruneReport() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("age", "gb", "expected"), [
    (None, None, RetentionPolicy(30, 20)),
    ("7", " 12.5 ", RetentionPolicy(7, 12.5)),
    ("", "0", RetentionPolicy(None, None)),
    ("none", "NONE", RetentionPolicy(None, None)),
])
def test_policy_from_env(monkeypatch, age: str | None, gb: str | None, expected: RetentionPolicy) -> None:
    for name, value in ((MAX_AGE_ENV, age), (MAX_GB_ENV, gb)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    policy = RetentionPolicy.from_env()
    assert policy == expected and (policy.max_age_days, policy.max_total_gb) == (expected.max_age_days,
                                                                                 expected.max_total_gb)


@pytest.mark.parametrize("variable", [MAX_AGE_ENV, MAX_GB_ENV])
@pytest.mark.parametrize("value", ["thirty", "-1", "nan", "1e400", "20GB"])
def test_bad_env_values_name_the_variable_and_the_fix(monkeypatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(FairGenError, match=rf"{variable} must be a number ≥ 0 .*got '{value}': fix it or unset it"):
        RetentionPolicy.from_env()


def test_policy_rejects_negative_bounds_and_zero_means_none() -> None:
    with pytest.raises(FairGenError, match="max_total_gb"):
        RetentionPolicy(30, -1)
    assert RetentionPolicy(0, 0) == RetentionPolicy(None, None)


def test_default_runs_base(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FAIRGEN_RUNS_DIR", raising=False)
    assert default_runs_base() == tmp_path / "home" / ".fairgen" / "runs"
    monkeypatch.setenv("FAIRGEN_RUNS_DIR", str(tmp_path / "shared"))
    assert default_runs_base() == tmp_path / "shared"


def test_cli_prune_prints_each_removed_run_and_a_total(base: Path, capsys) -> None:
    now = time.time()
    old = make_run(base / "ws" / "old", 40, now)
    make_run(base / "ws" / "new", 10, now, size=2_500_000)
    assert main(["prune", "--root", str(base), "--max-age-days", "30", "--max-gb", "none"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"removed {old.resolve()} (age: last modified 40.0 days ago, 1.00 kB)"
    assert lines[-1] == (f"removed 1 run folder(s) under {base}, 1.00 kB; runs take 2.50 MB (were 2.50 MB); "
                         "0 active run(s) kept")
    assert not old.exists() and (base / "ws" / "new").is_dir()


def test_cli_prune_dry_run_on_the_default_base(base: Path, monkeypatch, capsys) -> None:
    now = time.time()
    monkeypatch.setenv("FAIRGEN_RUNS_DIR", str(base))
    monkeypatch.setenv(MAX_GB_ENV, "0.0000015")
    monkeypatch.delenv(MAX_AGE_ENV, raising=False)
    first = make_run(base / "ws" / "first", 3, now)
    make_run(base / "ws" / "second", 2, now)
    assert main(["prune", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"would remove {first.resolve()} (size: ") and len(lines) == 2
    assert lines[-1].startswith("would remove 1 run folder(s)") and "runs would take 1.00 kB" in lines[-1]
    assert first.is_dir()


def test_cli_prune_bad_bounds(base: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv(MAX_AGE_ENV, raising=False)
    monkeypatch.delenv(MAX_GB_ENV, raising=False)
    base.mkdir()
    assert main(["prune", "--root", str(base), "--max-gb", "lots"]) == 2
    assert "--max-gb must be a number" in capsys.readouterr().err
    monkeypatch.setenv(MAX_AGE_ENV, "a month")
    assert main(["prune", "--root", str(base)]) == 2
    assert f"{MAX_AGE_ENV} must be a number" in capsys.readouterr().err
    assert main(["prune", "--root", str(base), "--max-age-days", "30"]) == 0  # the option replaces the variable


# -- the dashboard ----------------------------------------------------------------------------------------
@pytest.fixture
def app_env(base: Path, monkeypatch) -> Path:
    monkeypatch.setenv("FAIRGEN_RUNS_DIR", str(base))
    monkeypatch.delenv(MAX_AGE_ENV, raising=False)
    monkeypatch.delenv(MAX_GB_ENV, raising=False)
    return base


def test_dashboard_prunes_at_startup(app_env: Path) -> None:
    from tests.app.conftest import fresh_app

    now = time.time()
    old = make_run(app_env / "0123456789abcdef" / "old", 40, now)
    kept = make_run(app_env / "0123456789abcdef" / "kept", 10, now)
    at = fresh_app()
    at.run()
    assert not at.exception, at.exception
    assert not old.exists() and kept.is_dir()
    assert not [w for w in at.warning if "Old runs" in w.value]


def test_dashboard_shows_a_bad_variable_once_and_prunes_nothing(app_env: Path, monkeypatch) -> None:
    from tests.app.conftest import fresh_app

    monkeypatch.setenv(MAX_GB_ENV, "twenty")
    old = make_run(app_env / "0123456789abcdef" / "old", 40, time.time())
    at = fresh_app()
    at.run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning if MAX_GB_ENV in w.value] == [
        f"Old runs are not cleaned up: {MAX_GB_ENV} must be a number ≥ 0 (empty, 0 or 'none' for no "
        "bound), got 'twenty': fix it or unset it (default 20)."]
    at.run()
    assert not at.exception and not [w for w in at.warning if "Old runs" in w.value]
    assert old.is_dir()


def test_removal_checks_again_that_the_run_is_inactive_and_inside_the_base(base: Path, tmp_path: Path) -> None:
    """The last guard before rmtree: a run started since the scan, or a link, is kept and the reason noted."""
    now = time.time()
    training = make_training(base / "ws" / "training", 90, now)
    link = base / "ws" / "link"
    link.symlink_to(make_run(tmp_path / "outside" / "run", 90, now), target_is_directory=True)
    errors: list[str] = []
    assert not retention._remove(training, base.resolve(), errors) and training.is_dir()
    assert not retention._remove(link, base.resolve(), errors) and (tmp_path / "outside" / "run" / "job.json").is_file()
    assert errors == [f"'{link}' is not a run folder inside '{base.resolve()}'; it was kept."]


def test_a_workspaces_kept_upload_is_pruned_by_age_like_a_finished_run(base: Path) -> None:
    now = time.time()
    make_run(base / "old-ws" / "run", 40, now)
    kept = base / "old-ws" / SESSION_FOLDER
    kept.mkdir()
    (kept / "upload.bin").write_bytes(b"x" * 500)
    touch_all(kept, 40, now)
    fresh = base / "new-ws" / SESSION_FOLDER
    fresh.mkdir(parents=True)
    (fresh / "choices.json").write_text("[]")
    report = prune_runs(base, RetentionPolicy(max_age_days=30, max_total_gb=None), now=now)
    assert sorted(removed(report)) == [(".session", "age"), ("run", "age")]
    assert not (base / "old-ws").exists() and fresh.is_dir() and not report.errors
