"""The Ray backend of the executor on a real one-node cluster: results, sharing, retries, failures, bounds, cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairgen_core.runs.executor import ExecutorConfig, Outcome, open_executor
from tests.cluster import cells
from tests.cluster.processes import cpus_free, require_ray, running_cells, wait_until

ray = require_ray()
pytestmark = pytest.mark.usefixtures("ray_cluster")


def finish_all(executor, count: int) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    while len(outcomes) < count:
        outcomes |= dict(executor.wait_first())
    return outcomes


def test_cells_run_as_tasks_and_report_their_node() -> None:
    with open_executor(ExecutorConfig(ray="auto")) as executor:
        shared = executor.share(7)
        assert isinstance(shared, ray.ObjectRef)  # the data goes to the object store once
        tickets = {executor.submit(divmod, shared, 2): (3, 1), executor.submit(pow, shared, 2): 49}
        outcomes = finish_all(executor, 2)
    assert {ticket: outcome.value for ticket, outcome in outcomes.items()} == tickets
    assert {outcome.node for outcome in outcomes.values()} == {ray.get_runtime_context().get_node_id()}
    assert executor.threads == 1
    assert ray.is_initialized()  # the test's connection is kept: the executor did not open it


def test_a_cells_own_error_is_raised_as_it_is_and_not_retried(tmp_path) -> None:
    with pytest.raises(ValueError, match="bad data"), open_executor(ExecutorConfig(ray="auto")) as executor:
        executor.submit(cells.fail, None, "bad data")
        executor.wait_first()


def test_a_worker_killed_mid_cell_is_retried(tmp_path: Path) -> None:
    with open_executor(ExecutorConfig(ray="auto", max_retries=1)) as executor:
        ticket = executor.submit(cells.die_once, tmp_path, "cell")
        [(done, outcome)] = executor.wait_first()
    assert done == ticket and outcome.value == "cell" and outcome.failure is None
    assert (tmp_path / "cell.attempted").exists()  # the first attempt ran and its worker died


def test_a_cell_whose_worker_keeps_dying_fails_with_the_reason_after_its_retries(tmp_path: Path) -> None:
    with open_executor(ExecutorConfig(ray="auto", max_retries=1)) as executor:
        executor.submit(cells.always_die, tmp_path, "cell")
        [(_, outcome)] = executor.wait_first()
    assert outcome.value is None
    assert "lost 2 time(s)" in outcome.failure and "WorkerCrashedError" in outcome.failure
    assert len(list(tmp_path.glob("cell.*"))) == 2  # one attempt and one retry, no more


def test_max_parallel_bounds_the_cells_running_at_once(tmp_path: Path) -> None:
    with open_executor(ExecutorConfig(ray="auto", max_parallel=1)) as executor:
        for name in "abc":
            executor.submit(cells.logged, tmp_path, name)
        finish_all(executor, 3)
    log = (tmp_path / "log").read_text().split()
    assert log == ["start", "a", "end", "a", "start", "b", "end", "b", "start", "c", "end", "c"]


def test_cancelling_stops_the_running_cells_and_drops_the_queued_ones() -> None:
    with pytest.raises(KeyboardInterrupt), open_executor(ExecutorConfig(ray="auto")) as executor:
        for name in "abc":  # two run (two CPUs), one waits
            executor.submit(cells.nap, 600, name)
        wait_until(lambda: len(running_cells()) == 2)
        raise KeyboardInterrupt  # what Ctrl-C raises in the driver
    wait_until(lambda: not running_cells() and cpus_free())
