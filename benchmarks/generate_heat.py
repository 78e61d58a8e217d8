"""Benchmark: generate a HEAT database into a SQLite file and print calls/s and rows/s.

Usage: ``.venv/bin/python benchmarks/generate_heat.py [--calls 100000] [--seed 42]``.
The database goes to a temporary folder unless ``--out`` names a file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from itilmigrate.generator import generate_heat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="SQLite file to keep")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = args.out or Path(folder) / "heat.db"
        started = time.perf_counter()
        manifest = generate_heat(str(path), calls=args.calls, seed=args.seed)
        elapsed = time.perf_counter() - started
        rows = (
            manifest.calls
            + manifest.assignments
            + manifest.journals
            + manifest.subsets
            + manifest.profiles
        )
        size_mb = path.stat().st_size / 1e6
    print(
        f"calls={manifest.calls} rows={rows} seconds={elapsed:.2f} "
        f"calls_per_s={manifest.calls / elapsed:,.0f} rows_per_s={rows / elapsed:,.0f} "
        f"sqlite_mb={size_mb:.1f}"
    )


if __name__ == "__main__":
    main()
