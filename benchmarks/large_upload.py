"""Reading an upload at the dashboard's size bound: wall time and peak memory of ``open_data`` on ~200 MB.

Usage: ``.venv/bin/python benchmarks/large_upload.py [--mb 195]``. Builds the file by repeating the built-in
Adult table (with a copy counter), then, in a fresh process, reads it as the Data page does (the upload's
bytes in memory, dialect sniffing, parsing, schema inference). Results in docs/robustness.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

READ = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from fairgen_core.data.io import ReadLimits
from fairgen_core.data.sources import open_data
raw = open(sys.argv[2], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
source = open_data(raw, name="big.csv", limits=ReadLimits(max_bytes=200 * 1024 * 1024))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": round(seconds, 1), "rows": len(source.frame), "columns": source.frame.shape[1],
                  "rss_before_mb": round(before), "peak_rss_mb": round(peak),
                  "frame_mb": round(source.frame.memory_usage(deep=True).sum() / 1e6)}))
"""


def build(path: Path, megabytes: float) -> int:
    """Write Adult rows (plus a copy counter) to ``path`` until it holds ``megabytes`` MB; returns the rows."""
    sys.path.insert(0, str(ROOT))
    from fairgen_core.data.sources import open_data

    adult = open_data("adult").frame
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        adult.assign(copy=0).head(0).to_csv(handle, index=False)
        while handle.tell() < megabytes * 1e6:
            adult.assign(copy=rows // len(adult)).to_csv(handle, index=False, header=False)
            rows += len(adult)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=195.0, help="file size to build, in MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        rows = build(path, args.mb)
        size = path.stat().st_size / 1e6
        result = subprocess.run([sys.executable, "-c", READ, str(ROOT), str(path)], capture_output=True, text=True,
                                check=True)
    print(json.dumps({"file_mb": round(size, 1), "rows_written": rows, **json.loads(result.stdout)}, indent=1))


if __name__ == "__main__":
    main()
