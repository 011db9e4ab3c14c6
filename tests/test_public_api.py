"""The curated public API of ``fairgen_core``: each name is its home module's object, the package imports light,
and the README's library example runs."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest

import fairgen_core
from tests.conftest import REPO_ROOT


def test_every_public_name_is_the_object_its_home_module_defines() -> None:
    assert len(fairgen_core.__all__) == len(set(fairgen_core.__all__)) > 40
    for name in fairgen_core.__all__:
        value = getattr(fairgen_core, name)
        home = value.__module__
        assert home.startswith("fairgen_core.") and vars(importlib.import_module(home))[name] is value, name


def test_the_public_names_are_listed_and_unknown_ones_raise() -> None:
    assert set(fairgen_core.__all__) <= set(dir(fairgen_core))
    assert {"open_data", "DatasetSpec", "fit_generator", "FairGenerator", "fit_fair_classifier", "fairness_report",
            "assess_quality", "run_experiment", "FairGenError"} <= set(fairgen_core.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'fit'"):
        fairgen_core.fit  # noqa: B018  (the attribute access is the test)


def test_importing_the_package_or_its_data_names_loads_no_torch() -> None:
    script = ("import sys; import fairgen_core; names = dir(fairgen_core); "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'pandas'))); "
              "fairgen_core.DatasetSpec, fairgen_core.open_data; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "False"]


def test_the_readmes_library_example_runs(capsys) -> None:
    section = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("## Library", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```python\n(.+?)\n```", section, re.DOTALL)
    assert re.findall(r"^from fairgen_core\S* import|fairgen_core\.\w+\.", example, re.MULTILINE) == []  # public only
    exec(compile(example, "README.md", "exec"), {})
    rows, balanced_accuracy, odds_gap = capsys.readouterr().out.split()
    assert rows == "400" and 0.0 <= float(balanced_accuracy) <= 1.0 and 0.0 <= float(odds_gap) <= 1.0
