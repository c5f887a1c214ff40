"""Shared bits of the hand-run benchmarks: machine description and result writing."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from dhaug.precision import cpu_has_native_bf16

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def cpu_model() -> str | None:
    """The CPU's model name (Linux /proc/cpuinfo; ``platform.processor()`` elsewhere, None if neither says):
    results from different CPUs differ several-fold in speed, and bf16 only pays off where it is native."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def world_poses(positions, subjects: list[str], every: int) -> torch.Tensor:
    """(N, 16, 3) world poses (Z up, metres) of ``subjects`` (``load_positions_3d`` output), every ``every``-th frame."""
    return torch.as_tensor(
        np.concatenate([p[::every] for s in subjects for p in positions[s].values()]), dtype=torch.float32
    )


def run_labels(runs: list[str], labels: list[str] | None) -> list[str]:
    """A label per run folder: ``labels`` when given (one each), else the folders themselves."""
    labels = labels or [str(r) for r in runs]
    if len(labels) != len(runs):
        raise SystemExit(f"--labels: {len(labels)} labels for {len(runs)} runs")
    return labels


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu": cpu_model(),
        "cpu_native_bf16": cpu_has_native_bf16(),
    }
    try:
        here = Path(__file__).parent
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here
        ).stdout.strip()
        # uncommitted changes to the package: the numbers are not the commit's
        info["git_dirty"] = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "dhaug"], capture_output=True, text=True, cwd=here.parent
            ).stdout.strip()
        )
    except OSError:
        pass
    return info


def write(stem: str, payload: dict, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2))
    (RESULTS / f"{stem}.md").write_text(markdown)
    print(markdown)
    print(f"wrote {RESULTS / (stem + '.json')} and {RESULTS / (stem + '.md')}")


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"benchmark data not found: {path} (the benchmarks read ../shared/data beside the repo)")
    return path
