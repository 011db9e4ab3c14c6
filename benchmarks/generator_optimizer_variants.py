"""Generator training throughput on Adult (CPU) with Adam's default, ``foreach`` and ``fused`` implementations.

Usage: ``.venv/bin/python benchmarks/generator_optimizer_variants.py default foreach fused``; prints the rows/s
of each of 4 epochs and the median of epochs 2-4 per variant (results in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairgen_core.config import GeneratorConfig  # after the path set-up above
from fairgen_core.data.sources import open_data
from fairgen_core.generator import fit_generator, training

VARIANTS = ("default", "foreach", "fused")


def epoch_rates(variant: str, epochs: int = 4) -> list[float]:
    """Rows per second of every epoch of a default Adult training with the given Adam implementation."""
    adam = torch.optim.Adam
    if variant != "default":
        training.torch.optim.Adam = functools.partial(adam, **{variant: True})
    try:
        source, rates = open_data("adult"), []
        config = GeneratorConfig(epochs=epochs, patience=0, device="cpu", seed=0, eval_every=100)
        fit_generator(source.frame, source.default_spec, schema=source.schema, config=config,
                      callback=lambda report: rates.append(report.rows_per_s))
        return rates
    finally:
        training.torch.optim.Adam = adam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", choices=VARIANTS)
    for variant in parser.parse_args().variants:
        rates = epoch_rates(variant)
        median = statistics.median(rates[1:])
        print(f"{variant}: {[round(r) for r in rates]} rows/s; median of epochs 2-4: {median:,.0f}")


if __name__ == "__main__":
    main()
