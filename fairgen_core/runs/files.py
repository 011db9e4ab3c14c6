"""Atomic file writes: readers of a run folder or a workspace never see half a file. Torch-free."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any


def write_atomically(path: Path, content: bytes) -> None:
    """Replace the file ``path`` with ``content`` atomically (through a temporary file beside it)."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    partial.write_bytes(content)
    partial.replace(path)


def write_json_atomically(path: Path, values: dict[str, Any]) -> None:
    """Replace the JSON file ``path`` atomically."""
    write_atomically(path, json.dumps(values).encode("utf-8"))
