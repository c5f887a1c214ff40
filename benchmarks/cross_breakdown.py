"""Where the cross-dataset error comes from: cmu_test.npz errors of trained runs split by the camera's
normalised focal length ``2 fx / width`` (Human3.6M's cameras: ~2.29; cmu_test: 0.98-3.2), with
MPJPE, scale-aligned MPJPE (N-MPJPE) and P-MPJPE, and the mean scale factor that would best fit
each prediction to the truth (> 1: predicted skeletons too small).

Run from the repository root:  python benchmarks/cross_breakdown.py runs/A runs/B ... [--stem NAME]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from common import SHARED, machine, require, write

from dhaug import checkpoint
from dhaug.config import load_config
from dhaug.data.crossdata import load_cmu_test
from dhaug.evaluate import predict
from dhaug.metrics import joint_errors, procrustes_align
from dhaug.models import build_model

BINS = ((0.9, 1.4), (1.4, 2.0), (2.0, 2.6), (2.6, 3.3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="training-run folders with checkpoint.pt (single-frame models)")
    ap.add_argument("--stem", default="cross_breakdown")
    a = ap.parse_args()
    path = require(SHARED / "cmu" / "cmu_test.npz")
    s = load_cmu_test(path)
    raw = np.load(path)
    fnorm = 2 * raw["cam_intrinsics"][:, 0] / raw["res"][:, 0]
    x, y = torch.as_tensor(s.pose2d), torch.as_tensor(s.pose3d)
    rows = []
    for run in a.runs:
        state = checkpoint.load(f"{run}/checkpoint.pt")
        cfg = load_config(state["config"])
        model = build_model(cfg.model)
        model.load_state_dict(state["model"])
        p = predict(model, x, flip_test=True)
        scale = (p * y).sum((1, 2)) / (p * p).sum((1, 2))
        e = (joint_errors(p, y).mean(-1) * 1000).numpy()
        en = (joint_errors(p * scale[:, None, None], y).mean(-1) * 1000).numpy()
        pa = (joint_errors(procrustes_align(p, y), y).mean(-1) * 1000).numpy()
        label = f"{cfg.augment.method}, seed {cfg.train.seed}" + (
            f", fov {cfg.augment.fov_range_deg}, limits {cfg.augment.limits}, {cfg.augment.body_model}"
            if cfg.augment.method != "none"
            else ""
        )
        for lo, hi in ((0, 99),) + BINS:
            k = (fnorm >= lo) & (fnorm < hi)
            rows.append(
                {
                    "run": run,
                    "label": label,
                    "bin": "all" if hi == 99 else f"{lo}-{hi}",
                    "frames": int(k.sum()),
                    "mpjpe": float(e[k].mean()),
                    "n_mpjpe": float(en[k].mean()),
                    "p_mpjpe": float(pa[k].mean()),
                    "scale": float(scale.numpy()[k].mean()),
                }
            )
            print(rows[-1])
    md = [
        "# cmu_test errors by camera focal length",
        "",
        "Normalised focal length `2 fx / width` of the test camera (Human3.6M: ~2.29). MPJPE / scale-aligned "
        "N-MPJPE / P-MPJPE in mm (flip test, last epoch); `scale` = mean best-fit scale of the prediction.",
        "",
        "| run | focal bin | frames | MPJPE | N-MPJPE | P-MPJPE | scale |",
        "|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['label']} (`{r['run']}`) | {r['bin']} | {r['frames']} | {r['mpjpe']:.1f} | {r['n_mpjpe']:.1f} | "
        f"{r['p_mpjpe']:.1f} | {r['scale']:.2f} |"
        for r in rows
    ]
    md += ["", f"Machine: {machine()}", ""]
    write(a.stem, {"rows": rows, "machine": machine()}, "\n".join(md))


if __name__ == "__main__":
    main()
