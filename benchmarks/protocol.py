"""Train + evaluate several runs (backbone × augmentation × seed) under one protocol and tabulate
them side by side (used by quick.py / full.py). The data are loaded once and shared by all runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from common import SHARED, machine, require, write

from dhaug.config import load_config
from dhaug.data import load_experiment_data
from dhaug.train import train

METRICS = (("mpjpe", "MPJPE"), ("p_mpjpe", "P-MPJPE"), ("pck", "PCK"), ("auc", "AUC"))


@dataclass
class Run:
    config: str  # configs/<config>.yaml
    overrides: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.config + "".join(f" {o}" for o in self.overrides)


def add_data_arguments(ap) -> None:
    """``--cross`` and ``--data-dir`` of the protocol scripts (quick.py, full.py)."""
    ap.add_argument(
        "--cross",
        nargs="+",
        help="cross-dataset test files (cmu_test.npz or test_3dhp.npz format); default ../shared/data/cmu/cmu_test.npz",
    )
    ap.add_argument("--data-dir", help="Human3.6M npz folder (default ../shared/data/h36m)")


def cross_label(cross: list[str] | None) -> str:
    """The cross-dataset sets of a protocol title: file stems, default cmu_test."""
    return ", ".join(Path(c).stem for c in cross) if cross else "cmu_test"


def run_protocol(
    stem: str,
    runs: list[Run],
    overrides: list[str],
    out_root: str,
    title: str,
    notes: str,
    cross: list[str] | None = None,
    data_dir: str | None = None,
) -> dict:
    """Train and evaluate ``runs``; H36M from ``data_dir`` (default ../shared/data/h36m), cross-dataset
    test sets ``cross`` (default ../shared/data/cmu/cmu_test.npz). ``overrides`` (key=value) apply to
    every run and win over these defaults (``data.cross_sets=[...]`` too)."""
    data_dir = Path(data_dir) if data_dir else SHARED / "h36m"
    cross = [Path(c) for c in cross] if cross else [SHARED / "cmu" / "cmu_test.npz"]
    for path in [data_dir / "data_3d_h36m.npz"] + cross:
        require(path)
    repo = Path(__file__).resolve().parents[1]
    defaults = [f"data.data_dir={data_dir}", "data.cross_sets=[" + ",".join(str(c) for c in cross) + "]"]
    cfgs = []
    for i, r in enumerate(runs):
        cfg = load_config(
            repo / "configs" / f"{r.config}.yaml",
            defaults + overrides + r.overrides + [f"out_dir={out_root}/{i:02d}_{r.config}"],
        )
        cfgs.append(cfg)
    t0 = time.time()
    data = load_experiment_data(cfgs[0].data, full_rate_tests=cfgs[0].model.frames > 1)
    load_s = time.time() - t0
    raw = []
    for r, cfg in zip(runs, cfgs):
        t = time.time()
        res = train(cfg, data=data)
        raw.append(
            {
                "model": cfg.model.name,
                "augment": cfg.augment.method,
                "body_model": cfg.augment.body_model,
                "seed": cfg.train.seed,
                "label": r.label,
                "results": res,
                "wall_s": time.time() - t,
                "config": cfg.to_dict(),
            }
        )
    md = [
        f"# {title}",
        "",
        notes,
        "",
        f"Data: {len(data.train)} training pairs; test sets "
        + ", ".join(f"{k}: {len(v)} pairs" for k, v in data.tests.items())
        + f". Data loading {load_s:.0f} s.",
        "",
        "## Every run (frame-weighted means)",
        "",
        "| model | augment | seed | test set | "
        + " | ".join(m for _, m in METRICS)
        + " | action-mean MPJPE | wall (s) |",
        "|---|---|---|---|" + "---|" * (len(METRICS) + 2),
    ]
    for r in raw:
        for name, res in r["results"].items():
            fm = res["frame_mean"]
            md.append(
                f"| {r['model']} | {r['augment']} | {r['seed']} | {name}{' (flip test)' if res['flip_test'] else ''} | "
                + " | ".join(f"{fm[k]:.2f}" for k, _ in METRICS)
                + f" | {res['action_mean']['mpjpe']:.2f} | {r['wall_s']:.0f} |"
            )
    groups: dict[tuple, list] = {}
    for r in raw:
        groups.setdefault((r["model"], r["augment"]), []).append(r)
    if any(len(v) > 1 for v in groups.values()):
        md += [
            "",
            "## Mean ± half-range over seeds (frame-weighted MPJPE / P-MPJPE, mm)",
            "",
            "| model | augment | seeds | " + " | ".join(f"{n} MPJPE | {n} P-MPJPE" for n in data.tests) + " |",
            "|---|---|---|" + "---|---|" * len(data.tests),
        ]
        for (model, aug), rs in groups.items():
            cells = []
            for n in data.tests:
                for k in ("mpjpe", "p_mpjpe"):
                    v = np.array([r["results"][n]["frame_mean"][k] for r in rs])
                    cells.append(f"{v.mean():.1f} ± {(v.max() - v.min()) / 2:.1f}")
            md.append(f"| {model} | {aug} | {len(rs)} | " + " | ".join(cells) + " |")
    md += [
        "",
        "MPJPE / P-MPJPE in mm; PCK@150 mm and AUC (0-150 mm, 31 thresholds) in %. Frame-weighted means count",
        "every test pose once; action-mean averages the per-action means. Numbers are from the last epoch",
        "(no model selection). Per-action tables: each run's results.md under " + out_root + ".",
        f"Total wall time {time.time() - t0:.0f} s. Machine: {machine()}",
    ]
    payload = {
        "protocol": title,
        "notes": notes,
        "machine": machine(),
        "load_s": load_s,
        "total_wall_s": time.time() - t0,
        "runs": raw,
    }
    write(stem, payload, "\n".join(md) + "\n")
    return payload
