"""A real Ray cluster per test module (each module asks for Ray with :func:`~tests.cluster.processes.require_ray`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.processes import OBJECT_STORE_BYTES, require_ray


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """A one-node Ray cluster of 2 CPUs started for the module and shut down after it."""
    ray = require_ray()
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES,
             logging_level="warning")  # a new cluster, never one another test process started
    try:
        yield
    finally:
        ray.shutdown()
