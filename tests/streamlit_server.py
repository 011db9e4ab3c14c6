"""Start ``streamlit run dashboard/app.py`` on a free localhost port for the server and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO_ROOT


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(runs_dir: Path | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Serve the dashboard as Quick start (a) does; yields its base URL once the health check answers."""
    port = free_port()
    env = {**os.environ, **({"FAIRGEN_RUNS_DIR": str(runs_dir)} if runs_dir else {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, health = time.monotonic() + timeout, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    health = response.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        if health != "ok":
            output = server.stdout.read() if server.poll() is not None else "no answer to the health check"
            raise RuntimeError(f"streamlit did not start: {output}")
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=20)
