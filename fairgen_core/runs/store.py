"""Run folders: everything a training run produces, written as it is produced.

```
RUN_DIR/
  manifest.json    data source and hash, spec, generator config, split seed and rows, versions
  progress.jsonl   one JSON line per epoch (losses, validation FID, timing)
  model.pt         best model + resumable training state (torch.load(weights_only=True))
  sweep.csv        (optional) the ratio sweep: method, ratio, repetition, seed, metric, value
  methods.csv      (optional) the comparison methods, same columns (+ note)
```

The names are :mod:`fairgen_core.runs.layout`'s; a training job's own files are :mod:`fairgen_core.runs.jobs`'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.config import GeneratorConfig
from fairgen_core.data.datasets import BUILTIN_DATASETS
from fairgen_core.data.rules import Structure
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.spec import DatasetSpec, spec_from_dict, spec_to_dict
from fairgen_core.data.splits import Split
from fairgen_core.data.structure import detect_structure
from fairgen_core.devices import library_versions
from fairgen_core.errors import RunFolderError
from fairgen_core.generator.training import EpochReport
from fairgen_core.runs.files import write_atomically
from fairgen_core.runs.layout import MANIFEST, MODEL, PROGRESS, RESULT_TABLES


def frame_hash(frame: pd.DataFrame) -> str:
    """A stable SHA-256 of a table's columns and values (to check a run is re-read on the same data)."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class RunManifest:
    """What a run folder records about how the model was made.

    ``structure`` holds the rules found in the data when the run was made
    (:func:`~fairgen_core.data.structure.detect_structure`); None for runs made before they were recorded.
    ``kept_leaks`` names the leaking columns the model keeps as inputs all the same (``fit --keep-leak``).
    """

    data: str
    data_file: str | None
    data_sha256: str
    spec: DatasetSpec
    config: GeneratorConfig
    split: Split
    created: str
    versions: dict[str, str]
    structure: Structure | None = None
    kept_leaks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "data": self.data, "data_file": self.data_file, "data_sha256": self.data_sha256,
            "spec": spec_to_dict(self.spec), "config": self.config.to_dict(),
            "split": {"seed": self.split.seed, "repetition": self.split.repetition,
                      "train": self.split.train.tolist(), "val": self.split.val.tolist(),
                      "test": self.split.test.tolist()},
            "created": self.created, "versions": self.versions,
            **({"structure": self.structure.to_dict()} if self.structure is not None else {}),
            **({"kept_leaks": list(self.kept_leaks)} if self.kept_leaks else {}),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunManifest:
        """Inverse of :meth:`to_dict`."""
        split = values["split"]
        return cls(
            data=values["data"], data_file=values.get("data_file"), data_sha256=values["data_sha256"],
            spec=spec_from_dict(values["spec"]), config=GeneratorConfig.from_dict(values["config"]),
            split=Split(*(np.asarray(split[k], dtype=np.int64) for k in ("train", "val", "test")),
                        seed=split["seed"], repetition=split["repetition"]),
            created=values["created"], versions=values["versions"],
            structure=Structure.from_dict(values["structure"]) if values.get("structure") is not None else None,
            kept_leaks=tuple(values.get("kept_leaks", ())),
        )


def new_manifest(data: str, data_file: str | None, frame: pd.DataFrame, spec: DatasetSpec,
                 config: GeneratorConfig, split: Split) -> RunManifest:
    """A manifest for a run starting now, with the structure of ``frame`` (rules and leaks of the label and
    sensitive columns)."""
    return RunManifest(data, data_file, frame_hash(frame), spec, config, split,
                       datetime.now(UTC).isoformat(timespec="seconds"), library_versions(),
                       detect_structure(frame, label=spec.label, sensitive=spec.sensitive_columns))


class RunDir:
    """A run folder on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def model_path(self) -> Path:
        """Where the checkpoint lives."""
        return self.path / MODEL

    def write_manifest(self, manifest: RunManifest) -> None:
        """Write ``manifest.json`` (creating the folder)."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=1))

    def read_manifest(self) -> RunManifest:
        """Read ``manifest.json``; a clear error if this is not a run folder."""
        try:
            return RunManifest.from_dict(json.loads((self.path / MANIFEST).read_text()))
        except NotADirectoryError as exc:
            raise RunFolderError(f"'{self.path}' is a file, not a FairGen run folder: give the folder a training run "
                                 f"wrote (the one holding {MODEL} and {MANIFEST}, e.g. '{self.path.parent}').") from exc
        except FileNotFoundError as exc:
            raise RunFolderError(f"'{self.path}' is not a FairGen run folder (no {MANIFEST}): give the folder "
                                 "a training run wrote.") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFolderError(f"'{self.path / MANIFEST}' is damaged ({exc}): train the run again.") from exc

    def open_data(self) -> DataSource:
        """The table this run was trained on, re-read from its source and checked against the recorded hash.

        Raises
        ------
        FairGenError
            If the folder is not a run folder, the data cannot be read, or it changed since training.
        """
        manifest = self.read_manifest()
        if manifest.data.strip().lower() in BUILTIN_DATASETS:
            source = open_data(manifest.data, file=manifest.data_file)
        else:  # a CSV: the copy kept in the run folder (uploads) or the path it was read from
            source = open_data(Path(manifest.data_file or manifest.data))
        if frame_hash(source.frame) != manifest.data_sha256:
            raise RunFolderError(f"the data '{manifest.data}' changed since the run in '{self.path}' was trained: "
                                 "it needs the same rows (train a new run on the current data).")
        return source

    def append_progress(self, report: EpochReport) -> None:
        """Append one epoch to ``progress.jsonl`` (every loss term per step included)."""
        self._append_progress_line(report.to_dict(), report.step_losses.as_dict())

    def append_history(self, history: Iterable[Mapping[str, Any]]) -> None:
        """Append the epochs of a checkpoint's history (:attr:`FairGenerator.history`) to ``progress.jsonl``; a
        history keeps no per-step losses."""
        for record in history:
            self._append_progress_line(record, {})

    def _append_progress_line(self, record: Mapping[str, Any], step_losses: Mapping[str, list[float]]) -> None:
        with (self.path / PROGRESS).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**record, "step_losses": step_losses}) + "\n")

    def read_progress(self) -> list[dict[str, Any]]:
        """All epochs logged so far (a partly written last line is ignored)."""
        path = self.path / PROGRESS
        if not path.exists():
            return []
        records = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return records

    def write_table(self, name: str, table: pd.DataFrame) -> Path:
        """Write a results table (:data:`~fairgen_core.runs.layout.RESULT_TABLES`) into the run folder, atomically."""
        path = self._table_path(name)
        write_atomically(path, table.to_csv(index=False).encode("utf-8"))
        return path

    def read_table(self, name: str) -> pd.DataFrame | None:
        """A results table written by :meth:`write_table`, or None when it has not been computed."""
        path = self._table_path(name)
        return pd.read_csv(path) if path.exists() else None

    def _table_path(self, name: str) -> Path:
        if name not in RESULT_TABLES:
            raise RunFolderError(f"unknown run table '{name}': use {' or '.join(RESULT_TABLES)}.")
        return self.path / name
