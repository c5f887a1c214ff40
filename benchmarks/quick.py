"""``quick`` CPU protocol (≤ 20 min on 2 cores): train each backbone on S1 with GT 2D, test on
H36M S9+S11 and cmu_test.npz. Settings are in configs/quick_*.yaml:

* training: S1, every 4th frame (62,094 frames / 4 x 4 cameras = 62,096 pairs), 4 epochs, lr 1e-3
  with linear decay, batch 1024, flip augmentation, seed 0;
* test: every 4th frame of S9+S11 (all 4 cameras), and every frame of cmu_test.npz with test-time flip.

Run from the repository root:  python benchmarks/quick.py [--models videopose mlp semgcn] [key=value ...]
"""
from __future__ import annotations

import argparse

from protocol import run_protocol

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["videopose", "mlp", "semgcn"])
    ap.add_argument("--out", default="runs/bench_quick")
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args()
    run_protocol("quick", [f"quick_{m}" for m in a.models], a.overrides, a.out,
                 "quick protocol (CPU): S1 → S9+S11 and cmu_test, GT 2D, no augmentation",
                 "Train S1 (GT 2D, every 4th frame), 4 epochs, lr 1e-3 linear decay, batch 1024, flip, seed 0. "
                 "Test: every 4th frame of S9+S11 (all cameras); cmu_test.npz all frames with flip test.")
