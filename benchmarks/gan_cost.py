"""What the DH-AUG GAN costs: generated pairs per second of a GAN pass, and the share of a training
epoch spent in it.

1. Micro: ``DHAugmenter.fit_epoch`` on a set of real poses (Human3.6M S1 when ../shared is present,
   else the built-in synthetic motions) at several GAN batch sizes, on CPU and on CUDA when present.
   One pass = the critic steps (3D + 2D, each with its mirrored step and gradient penalty), a
   generator step every ``n_critic`` iterations, and the fake buffer; pairs/s counts buffered pairs.
2. Training runs (``--runs DIR ...``, folders written by ``dhaug train --augment dhaug``): from their
   ``results.json`` history, the GAN pass seconds against the whole epoch (GAN + synthetic pass +
   real pass) for the pose-net epochs.

Run from the repository root:  python benchmarks/gan_cost.py [--runs runs/bench_quick_augment/*]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from common import SHARED, machine, write

from dhaug.augment import AugmentConfig, DHAugmenter
from dhaug.config import DataConfig, GANConfig
from dhaug.data import load_experiment_data


def real_set(n: int):
    """(camera-frame root-relative 3D, roots, camera index, cameras, bone templates) of n real poses."""
    h36m = SHARED / "h36m"
    cfg = (
        DataConfig(
            dataset="h36m",
            data_dir=str(h36m),
            train_subjects=["S1"],
            test_subjects=["S9"],
            downsample=4,
            test_downsample=200,
        )
        if (h36m / "data_3d_h36m.npz").is_file()
        else DataConfig(
            dataset="synthetic", train_subjects=["S1"], test_subjects=["S9"], downsample=1, test_downsample=50
        )
    )
    data = load_experiment_data(cfg)
    tr = data.train
    idx = np.arange(len(tr))[:n]
    cams = data.mocap.cameras["S1"]
    templates = torch.as_tensor(data.mocap.bone_template(["S1"]), dtype=torch.float32)
    return (
        torch.as_tensor(tr.pose3d[idx]),
        torch.as_tensor(tr.root[idx]),
        torch.as_tensor(tr.camera[idx]),
        cams,
        templates,
        cfg.dataset,
    )


def micro(n: int, batches: list[int], device: str) -> list[dict]:
    real3d, root, ci, cams, templates, source = real_set(n)
    rows = []
    for B in batches:
        aug = DHAugmenter(cams, templates, settings=AugmentConfig(gan=GANConfig(batch_size=B)), device=device, seed=0)
        aug.fit_epoch(real3d[: 8 * B], root[: 8 * B], ci[: 8 * B], progress=False)  # warm-up (allocations)
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = aug.fit_epoch(real3d, root, ci, progress=False)
        if device == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        its = len(real3d) // B
        rows.append(
            {
                "device": device,
                "data": source,
                "real_poses": len(real3d),
                "batch": B,
                "iterations": its,
                "seconds": dt,
                "ms_per_iteration": 1000 * dt / its,
                "pairs": len(out["pose2d"]),
                "pairs_per_s": len(out["pose2d"]) / dt,
            }
        )
        print(rows[-1])
    return rows


def from_runs(dirs: list[str]) -> list[dict]:
    rows = []
    for d in dirs:
        res = json.loads((Path(d) / "results.json").read_text())
        hist = [h for h in res["history"] if "gan/seconds" in h and np.isfinite(h.get("train_loss", np.nan))]
        if not hist:
            print(f"{d}: no pose-net epochs with GAN timing; skipped")
            continue
        gan = float(np.mean([h["gan/seconds"] for h in hist]))
        epoch = float(np.mean([h["seconds"] for h in hist]))
        pairs = float(np.mean([h["fake_pairs"] for h in hist]))
        rows.append(
            {
                "run": d,
                "device": res["config"]["train"]["device"],
                "pose_epochs": len(hist),
                "gan_seconds": gan,
                "epoch_seconds": epoch,
                "share": gan / epoch,
                "pairs": pairs,
                "pairs_per_s": pairs / gan,
            }
        )
        print(rows[-1])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--poses", type=int, default=32768, help="real poses in the micro benchmark's GAN pass")
    ap.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--runs", nargs="*", default=[], help="training-run folders (augment dhaug) to read")
    ap.add_argument("--stem", default="gan_cost")
    a = ap.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = [r for d in devices for r in micro(a.poses, a.batches, d)]
    runs = from_runs(a.runs)
    md = [
        "# DH-AUG GAN cost",
        "",
        "## One GAN pass (`python benchmarks/gan_cost.py`)",
        "",
        "| device | data | real poses | GAN batch | ms / iteration | generated pairs / s |",
        "|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['device']} | {r['data']} | {r['real_poses']} | {r['batch']} | {r['ms_per_iteration']:.1f} | "
        f"{r['pairs_per_s']:,.0f} |"
        for r in rows
    ]
    if runs:
        md += [
            "",
            "## Share of a training epoch (pose-net epochs of the given runs)",
            "",
            "| run | device | GAN pass (s) | whole epoch (s) | GAN share | generated pairs / s |",
            "|---|---|---|---|---|---|",
        ]
        md += [
            f"| {r['run']} | {r['device']} | {r['gan_seconds']:.1f} | {r['epoch_seconds']:.1f} | {100 * r['share']:.0f} % | "
            f"{r['pairs_per_s']:,.0f} |"
            for r in runs
        ]
    md += ["", f"Machine: {machine()}", ""]
    write(a.stem, {"micro": rows, "runs": runs, "machine": machine()}, "\n".join(md))


if __name__ == "__main__":
    main()
