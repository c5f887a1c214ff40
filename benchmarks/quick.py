"""``quick`` CPU protocol (≤ 20 min on 2 cores): train each backbone on S1 with GT 2D, test on
H36M S9+S11 and cmu_test.npz. Settings are in configs/quick_*.yaml:

* training: S1, every 8th frame of each sequence x 4 cameras (31,092 pairs), 6 epochs, batch 256,
  lr 1e-3 with linear decay (no tail), flip augmentation, seed 0;
* test: every 8th frame of S9+S11 (all 4 cameras, 65,084 pairs), and every frame of cmu_test.npz
  (39,711 pairs) with test-time flip.

Run from the repository root:  python benchmarks/quick.py [--models videopose mlp semgcn] [--augment none random]
[--seeds 0 1] [--stem NAME] [key=value ...]
"""
from __future__ import annotations

import argparse

from protocol import Run, run_protocol

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["videopose", "mlp", "semgcn"])
    ap.add_argument("--out", default="runs/bench_quick")
    ap.add_argument("--augment", nargs="+", default=["none"], help="augmentation variants to compare, e.g. none random")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--stem", default="quick", help="results file name under benchmarks/results/")
    ap.add_argument("overrides", nargs="*", help="config overrides for every run, key=value")
    a = ap.parse_args()
    runs = [Run(f"quick_{m}", [f"augment.method={aug}", f"train.seed={seed}"])
            for m in a.models for aug in a.augment for seed in a.seeds]
    run_protocol(a.stem, runs, a.overrides, a.out,
                 "quick protocol (CPU): S1 -> S9+S11 and cmu_test, GT 2D",
                 "Train S1 (GT 2D, every 8th frame), 6 epochs, lr 1e-3 linear decay, batch 256, flip, seed(s) "
                 f"{a.seeds}. Augmentation: {a.augment} (random = the paper's 'normal' random DH mode, 10,000 poses "
                 "per epoch into every training camera; dhaug = the DH-AUG GAN, 3 GAN-only warm-up epochs, then "
                 "each epoch's generated pairs; both: a synthetic pass before each real pass, fields of view "
                 "30-100 deg unless overridden). Overrides: " + (" ".join(a.overrides) or "none") + ". "
                 "Test: every 8th frame of S9+S11 (all cameras); cmu_test.npz all frames with flip test.")
