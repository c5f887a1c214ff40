"""What the DH-AUG GAN costs: generated pairs per second of a GAN pass, and the share of a training
epoch spent in it.

1. Micro: ``DHAugmenter.fit_epoch`` on a set of real poses (Human3.6M S1 when ../shared is present,
   else the built-in synthetic motions) at several GAN batch sizes, gradient-penalty sample counts
   (``augment.gan.gp_samples``) and precisions, on CPU and on CUDA when present. One pass = the critic
   steps (3D + 2D, each with its mirrored step and gradient penalty), a generator step every
   ``n_critic`` iterations, and the fake buffer; pairs/s counts buffered pairs. ``--passes`` > 1 times
   more passes of one GAN and prints the critics' losses of each (a diverging critic shows there).
2. Training runs (``--runs DIR ...``, folders written by ``dhaug train --augment dhaug``): from their
   ``results.json`` history, the GAN pass seconds against the whole epoch (GAN + synthetic pass +
   real pass) for the pose-net epochs.

Run from the repository root:  python benchmarks/gan_cost.py [--runs runs/bench_quick_augment/*]
    python benchmarks/gan_cost.py --subjects S1 S5 S6 S7 S8 --downsample 10 --poses 0 --batches 1024 \
        --gp-samples 0 256 --precisions fp32 bf16 --passes 3 --stem gan_cost_gp   # the medium set
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from common import SHARED, machine, write

from dhaug.augment import AugmentConfig, DHAugmenter
from dhaug.config import DataConfig, GANConfig
from dhaug.data import load_experiment_data


def real_set(n: int, subjects: list[str], downsample: int):
    """(camera-frame root-relative 3D, roots, camera index, cameras, bone templates) of the first n real
    poses (n = 0: all) of ``subjects``."""
    h36m = SHARED / "h36m"
    cfg = (
        DataConfig(
            dataset="h36m",
            data_dir=str(h36m),
            train_subjects=subjects,
            test_subjects=["S9"],
            downsample=downsample,
            test_downsample=200,
        )
        if (h36m / "data_3d_h36m.npz").is_file()
        else DataConfig(
            dataset="synthetic", train_subjects=["S1"], test_subjects=["S9"], downsample=1, test_downsample=50
        )
    )
    data = load_experiment_data(cfg)
    tr = data.train
    idx = np.arange(len(tr))[: n or None]
    cams = data.mocap.cameras[cfg.train_subjects[0]]
    templates = torch.as_tensor(data.mocap.bone_template(cfg.train_subjects), dtype=torch.float32)
    return (
        torch.as_tensor(tr.pose3d[idx]),
        torch.as_tensor(tr.root[idx]),
        torch.as_tensor(tr.camera[idx]),
        cams,
        templates,
        cfg.dataset,
    )


def micro(a: argparse.Namespace, device: str) -> list[dict]:
    real3d, root, ci, cams, templates, source = real_set(a.poses, a.subjects, a.downsample)
    rows = []
    for B, gp, precision in itertools.product(a.batches, a.gp_samples, a.precisions):
        torch.manual_seed(0)  # the networks' initial weights
        gan = GANConfig(batch_size=B, gp_samples=gp, precision=precision)
        aug = DHAugmenter(cams, templates, settings=AugmentConfig(gan=gan), device=device, seed=0)
        aug.fit_epoch(real3d[: 8 * B], root[: 8 * B], ci[: 8 * B], progress=False)  # warm-up (allocations)
        for p in range(a.passes):
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
                    "gp_samples": gp,
                    "precision": precision,
                    "pass": p + 1,
                    "iterations": its,
                    "seconds": dt,
                    "ms_per_iteration": 1000 * dt / its,
                    "pairs": len(out["pose2d"]),
                    "pairs_per_s": len(out["pose2d"]) / dt,
                    "valid_fraction": len(out["pose2d"]) / (its * B),
                    **{f"loss_{k}": out[k] for k in ("d3", "d2", "g")},
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
    ap.add_argument("--poses", type=int, default=32768, help="real poses in the micro benchmark's GAN pass (0: all)")
    ap.add_argument("--subjects", nargs="+", default=["S1"], help="Human3.6M training subjects of the real poses")
    ap.add_argument("--downsample", type=int, default=4, help="every n-th frame of their sequences")
    ap.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--gp-samples", type=int, nargs="+", default=[0], help="augment.gan.gp_samples values")
    ap.add_argument("--precisions", nargs="+", default=["fp32"], help="augment.gan.precision values")
    ap.add_argument("--passes", type=int, default=1, help="timed GAN passes per setting (one GAN trained on)")
    ap.add_argument("--runs", nargs="*", default=[], help="training-run folders (augment dhaug) to read")
    ap.add_argument("--stem", default="gan_cost")
    a = ap.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = [r for d in devices for r in micro(a, d)]
    runs = from_runs(a.runs)
    md = [
        "# DH-AUG GAN cost",
        "",
        "## One GAN pass",
        "",
        f"`{' '.join(['python benchmarks/gan_cost.py', *sys.argv[1:]])}`",
        "",
        "| device | data | real poses | GAN batch | gp_samples | precision | pass | ms / iteration | generated pairs / s "
        "| valid | critic losses d3 / d2, generator |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['device']} | {r['data']} | {r['real_poses']} | {r['batch']} | {r['gp_samples'] or 'all'} | "
        f"{r['precision']} | {r['pass']} | {r['ms_per_iteration']:.1f} | {r['pairs_per_s']:,.0f} | "
        f"{100 * r['valid_fraction']:.1f} % | {r['loss_d3']:.3g} / {r['loss_d2']:.3g}, "
        f"{'-' if r['loss_g'] is None else format(r['loss_g'], '.3g')} |"
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
