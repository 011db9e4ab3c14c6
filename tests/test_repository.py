"""Repository-level checks that belong to the test suite: lint, layering, security settings, README."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from dataclasses import astuple
from pathlib import Path

from fairgen_core.results import table
from fairgen_core.runs import layout
from tests.conftest import REPO_ROOT


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO_ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_file_holds_merge_conflict_markers() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    marker = re.compile(r"^(<{7} |>{7} )", re.MULTILINE)
    offenders = [name for name in tracked if name.endswith((".py", ".md", ".txt", ".toml", ".cfg"))
                 and (REPO_ROOT / name).is_file() and marker.search((REPO_ROOT / name).read_text(errors="replace"))]
    assert not offenders


def test_core_never_imports_streamlit() -> None:
    offenders = [str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "fairgen_core").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.MULTILINE)]
    assert offenders == []


def test_pages_never_import_torch() -> None:
    offenders = [str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "pages").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+torch\b", path.read_text(), re.MULTILINE)]
    assert offenders == []


def test_figures_are_built_only_in_the_two_chart_modules() -> None:
    # one home per figure: the core's results/charts (also the report's) and the dashboard's theme and widgets
    homes = {REPO_ROOT / "fairgen_core" / "results" / "charts.py", REPO_ROOT / "dashboard" / "charts.py"}
    drawing = re.compile(r"\b(go\.(Scatter|Bar|Histogram|Heatmap|Box|Pie)|make_subplots|px\.|alt\.Chart)\b")
    offenders = [str(path.relative_to(REPO_ROOT)) for folder in ("fairgen_core", "dashboard", "pages")
                 for path in (REPO_ROOT / folder).rglob("*.py")
                 if path not in homes and drawing.search(path.read_text())]
    assert offenders == []


def test_only_the_dashboards_state_module_touches_session_state() -> None:
    state = REPO_ROOT / "dashboard" / "state.py"
    offenders = [str(path.relative_to(REPO_ROOT)) for folder in ("pages", "dashboard")
                 for path in (REPO_ROOT / folder).rglob("*.py")
                 if path != state and "session_state" in path.read_text()]
    assert offenders == []


def test_the_run_layout_and_the_dashboards_housekeeping_never_load_torch() -> None:
    script = ("import sys; import fairgen_core.runs.layout, fairgen_core.runs.files, fairgen_core.runs.process, "
              "fairgen_core.runs.tasks, fairgen_core.runs.retention; print(sorted(m for m in sys.modules "
              "if m.split('.')[0] in ('torch', 'streamlit')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_only_the_config_reads_settings_from_the_environment() -> None:
    # fairgen_core.config is the one home of runtime settings; runs/process only hands the environment to children
    allowed = {REPO_ROOT / "fairgen_core" / "config.py", REPO_ROOT / "fairgen_core" / "runs" / "process.py"}
    reading = re.compile(r"\bos\.environ\b|\bgetenv\(|\bfrom os import .*environ")
    offenders = [str(path.relative_to(REPO_ROOT)) for folder in ("fairgen_core", "dashboard", "pages")
                 for path in (REPO_ROOT / folder).rglob("*.py")
                 if path not in allowed and reading.search(path.read_text())]
    assert offenders == []


def _docstrings(tree: ast.AST) -> set[int]:
    """``id`` of every docstring node in ``tree`` (documentation may name files; code may not)."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, owners) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def test_run_folder_names_are_typed_only_in_the_layout() -> None:
    names = {value for key, value in vars(layout).items() if key.isupper() and not key.startswith("_")
             and isinstance(value, str)}
    figures = {path.name for figure in layout.FIGURES for path in astuple(layout.figure_files(Path(), figure))}
    assert {"model.pt", "manifest.json", "status.json", ".session", "current.json", ".task.json"} <= names
    assert {".html", ".png", "fig2_methods", "fig3_ratio.png.txt"} <= names | figures
    # also caught inside longer texts: names with an inner dot, and the experiment's figures by their full names
    files = {name for name in names if "." in name.lstrip(".")} | figures | set(layout.FIGURES)
    names |= figures
    home = Path(layout.__file__)
    offenders = []
    for folder in ("fairgen_core", "dashboard", "pages"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path == home:
                continue
            tree = ast.parse(path.read_text())
            documentation = _docstrings(tree)
            offenders += [f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                          if isinstance(node, ast.Constant) and isinstance(node.value, str)
                          and id(node) not in documentation
                          and (node.value in names or any(name in node.value for name in files))]
    assert offenders == []


def _string_literals(folders: tuple[str, ...], values: set[str]) -> list[str]:
    """``path:line 'value'`` of every string literal in ``folders`` that is exactly one of ``values``."""
    paths: list[Path] = [path for folder in folders for path in sorted((REPO_ROOT / folder).rglob("*.py"))]
    return [f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.value!r}" for path in paths
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in values]


def test_method_names_are_typed_only_in_the_results_table() -> None:
    produced = {table.TRANSFER, table.TRANSFER_CHOSEN_RATIO, table.TRANSFER_THRESHOLDS, table.NO_TL, table.DOWNSAMPLED}
    home = f"{Path(table.__file__).relative_to(REPO_ROOT)}:"
    offenders = [hit for hit in _string_literals(("fairgen_core", "dashboard", "pages"), produced)
                 if not hit.startswith(home)]
    assert offenders == []
    # The report's audit section is also called "baseline"; front ends name the Baseline method only by constant.
    assert _string_literals(("dashboard", "pages"), {table.BASELINE}) == []


def test_no_unsafe_deserialisation_in_product_code() -> None:
    pattern = re.compile(r"weights_only\s*=\s*False|pickle\.loads?\(|import pickle")
    offenders = [str(path.relative_to(REPO_ROOT)) for folder in ("fairgen_core", "dashboard", "pages")
                 for path in (REPO_ROOT / folder).rglob("*.py") if pattern.search(path.read_text())]
    assert offenders == []


def test_streamlit_config_keeps_security_settings() -> None:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 500
    assert config["client"]["showErrorDetails"] in ("none", "type")
    assert config["browser"]["gatherUsageStats"] is False


def test_requirements_are_pinned_and_torch_is_2_13() -> None:
    lines = [line.split("#")[0].strip() for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line]
    assert "torch==2.13.0" in requirements
    assert all("==" in line for line in requirements), requirements


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```(?:bash|sh)\n(.+?)\n```", section, re.DOTALL)
    assert len(commands) == 2, commands
    assert "streamlit run dashboard/app.py" in commands[0]
    assert "pytest" in commands[1]
    assert "README.md" in (REPO_ROOT / ".ci" / "run").read_text()
