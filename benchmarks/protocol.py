"""Train + evaluate the three backbones under one protocol and tabulate (used by quick.py / full.py)."""
from __future__ import annotations

import time
from pathlib import Path

from dhaug.config import load_config
from dhaug.data import load_experiment_data
from dhaug.train import train

from common import SHARED, machine, require, write

METRICS = (("mpjpe", "MPJPE"), ("p_mpjpe", "P-MPJPE"), ("pck", "PCK"), ("auc", "AUC"))


def run_protocol(stem: str, configs: list[str], overrides: list[str], out_root: str, title: str, notes: str) -> dict:
    require(SHARED / "h36m" / "data_3d_h36m.npz")
    require(SHARED / "cmu" / "cmu_test.npz")
    repo = Path(__file__).resolve().parents[1]
    updates = {"data": {"data_dir": str(SHARED / "h36m"), "cross_sets": [str(SHARED / "cmu" / "cmu_test.npz")]}}
    cfgs = [load_config(repo / "configs" / f"{c}.yaml", overrides + [f"out_dir={out_root}/{c}"], updates) for c in configs]
    t0 = time.time()
    data = load_experiment_data(cfgs[0].data)
    load_s = time.time() - t0
    rows, raw = [], {}
    for cfg in cfgs:
        t = time.time()
        res = train(cfg, data=data)
        wall = time.time() - t
        raw[cfg.model.name] = {"results": res, "wall_s": wall, "config": cfg.to_dict()}
        for name, r in res.items():
            for kind in ("frame_mean", "action_mean"):
                rows.append((cfg.model.name, name + (" (flip test)" if r["flip_test"] else ""), kind,
                             *(r[kind][k] for k, _ in METRICS), r["frame_mean"]["frames"], wall))
    md = [f"# {title}", "", notes, "",
          f"Data: {len(data.train)} training pairs; test sets " + ", ".join(f"{k}: {len(v)} pairs" for k, v in data.tests.items())
          + f". Data loading {load_s:.0f} s.", "",
          "| model | test set | mean | " + " | ".join(m for _, m in METRICS) + " | frames | train+eval wall (s) |",
          "|---|---|---|" + "---|" * (len(METRICS) + 2)]
    for r in rows:
        md.append(f"| {r[0]} | {r[1]} | {r[2].replace('_', ' ')} | " + " | ".join(f"{v:.2f}" for v in r[3:3 + len(METRICS)])
                  + f" | {r[-2]} | {r[-1]:.0f} |")
    md += ["", "MPJPE / P-MPJPE in mm; PCK@150 mm and AUC (0-150 mm, 31 thresholds) in %. `frame mean` weights every",
           "pose equally; `action mean` averages per-action means. Numbers are from the last epoch (no model selection).",
           f"Total wall time {time.time() - t0:.0f} s. Machine: {machine()}"]
    payload = {"protocol": title, "notes": notes, "machine": machine(), "load_s": load_s,
               "total_wall_s": time.time() - t0, "models": raw}
    write(stem, payload, "\n".join(md) + "\n")
    return payload
