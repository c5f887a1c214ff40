"""``full`` paper protocol: S1,S5,S6,S7,S8 → S9+S11 (all frames) and cmu_test.npz, GT 2D (or
``--keypoints sh``), 50 + 60 epochs, lr 1e-4, batch 1024. Runs on CPU but is meant for a GPU.
Paper no-augmentation baselines (H36M GT, MPJPE): SemGCN 44.4, SimpleBaseline 43.3, VPose 41.8 mm.

Run from the repository root:  python benchmarks/full.py [--models ...] [--keypoints sh] [key=value ...]
"""
from __future__ import annotations

import argparse

from protocol import Run, run_protocol

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["videopose", "mlp", "semgcn"])
    ap.add_argument("--keypoints", default="gt")
    ap.add_argument("--augment", nargs="+", default=["none"])
    ap.add_argument("--out", default="runs/bench_full")
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args()
    runs = [Run(f"full_{m}", [f"augment.method={aug}"]) for m in a.models for aug in a.augment]
    run_protocol(f"full_{a.keypoints}", runs, a.overrides + [f"data.keypoints={a.keypoints}"], a.out,
                 f"full protocol: S1,S5,S6,S7,S8 -> S9+S11 and cmu_test, {a.keypoints} 2D",
                 "50 epochs linear LR decay from 1e-4 + 60 tail epochs x0.95, batch 1024, flip, seed 0, all test frames. "
                 "Paper baselines (H36M GT, MPJPE): SemGCN 44.4, SimpleBaseline 43.3, VPose 41.8 mm.")
