"""Shared fixtures: German credit encoded by a quickly fitted generator, and one torch thread."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import torch

from fairgen_core.config import GeneratorConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split, split_by_domain
from fairgen_core.generator import FairGenerator, fit_generator
from fairgen_core.mitigations import MethodData, method_data


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The networks here are tiny: one thread is faster than several fighting over shared cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="package")
def german_run() -> tuple[FairGenerator, pd.DataFrame, Split]:
    """German credit (sex), split 70/15/15, with a generator fitted for one epoch (only its encoder matters)."""
    dataset = get_builtin("german")
    frame, spec = dataset.load(), dataset.default_spec()
    split = split_by_domain(assign_domains(frame, spec).domain, seed=0)
    generator = fit_generator(frame, spec, schema=dataset.schema(frame), split=split, config=GeneratorConfig(
        hidden_dim=16, latent_dim=4, epochs=1, patience=0, device="cpu"))
    return generator, frame, split


@pytest.fixture(scope="package")
def german(german_run: tuple[FairGenerator, pd.DataFrame, Split]) -> MethodData:
    """The German split as method data."""
    return method_data(*german_run)
