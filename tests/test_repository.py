"""Repository-level checks that belong to the test suite: lint, layering, security settings, README."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from tests.conftest import REPO_ROOT


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO_ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_never_imports_streamlit() -> None:
    offenders = [str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "fairgen_core").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.MULTILINE)]
    assert offenders == []


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
