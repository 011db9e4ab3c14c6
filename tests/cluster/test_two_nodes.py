"""Two Ray nodes simulated on this machine (``ray.cluster_utils.Cluster``): cells spread over both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from fairgen_core.runs.executor import ExecutorConfig, open_executor
from tests.cluster import cells
from tests.cluster.processes import OBJECT_STORE_BYTES, require_ray
from tests.cluster.test_ray_experiment import TINY, run

ray = require_ray()


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[set[str]]:
    """A head and a second node of one CPU each; yields their node ids."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": OBJECT_STORE_BYTES, "include_dashboard": False})
    cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE_BYTES)
    ray.init(address=cluster.address, logging_level="warning")
    cluster.wait_for_nodes()
    try:
        yield {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_cells_that_run_together_run_on_both_nodes(two_nodes) -> None:
    assert len(two_nodes) == 2
    with open_executor(ExecutorConfig(ray="auto")) as executor:
        for name in "ab":  # one CPU per node: the second cell cannot wait for the first node's
            executor.submit(cells.nap, 2, name)
        outcomes = executor.wait_first() + executor.wait_first()
    assert {outcome.node for _, outcome in outcomes} == two_nodes


def test_an_experiment_spreads_its_cells_and_records_the_node_of_each(two_nodes, tmp_path) -> None:
    run(tmp_path / "out", **{**TINY, "experiment": replace(TINY["experiment"], repetitions=2)})
    nodes = json.loads((tmp_path / "out" / "manifest.json").read_text())["nodes"]
    assert sorted(nodes) == ["rep0.generator", "rep0.sweep", "rep1.generator", "rep1.sweep"]
    assert {nodes["rep0.generator"], nodes["rep1.generator"]} == two_nodes  # the two generators ran side by side
