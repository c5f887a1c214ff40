"""``quick`` CPU protocol (≤ 20 min on 2 cores): train each backbone on S1 with GT 2D, test on
H36M S9+S11 and cmu_test.npz. Settings are in configs/quick_*.yaml:

* training: S1, every 8th frame of each sequence x 4 cameras (31,092 pairs), 6 epochs, batch 256,
  lr 1e-3 with linear decay (no tail), flip augmentation, seed 0;
* test: every 8th frame of S9+S11 (all 4 cameras, 65,084 pairs), and every frame of cmu_test.npz
  (39,711 pairs) with test-time flip.

Run from the repository root:  python benchmarks/quick.py [--models videopose mlp semgcn] [--augment none random]
[--seeds 0 1] [--stem NAME] [--cross FILE ...] [--data-dir DIR] [key=value ...]
"""

from __future__ import annotations

import argparse

from protocol import Run, add_data_arguments, cross_label, run_protocol

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--models",
        nargs="+",
        default=["videopose", "mlp", "semgcn"],
        help="configs/quick_<model>.yaml to run, e.g. videopose mlp semgcn videopose9",
    )
    ap.add_argument("--out", default="runs/bench_quick")
    ap.add_argument("--augment", nargs="+", default=["none"], help="augmentation variants to compare, e.g. none random")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--stem", default="quick", help="results file name under benchmarks/results/")
    add_data_arguments(ap)
    ap.add_argument("overrides", nargs="*", help="config overrides for every run, key=value")
    a = ap.parse_args()
    runs = [
        Run(f"quick_{m}", [f"augment.method={aug}", f"train.seed={seed}"])
        for m in a.models
        for aug in a.augment
        for seed in a.seeds
    ]
    video = all(m[-1].isdigit() for m in a.models)  # quick_videopose9 etc.
    if video:
        notes = (
            "Train S1 (GT 2D, every 10th frame -> 9-frame windows of 5 fps frames), 6 epochs, lr 1e-3 linear "
            f"decay, batch 256, steps on the window, its mirror, its time reversal and both; seed(s) {a.seeds}. "
            f"Augmentation: {a.augment} (dhaug-video = the DH-AUG video GAN: 4 GAN-only epochs, motion critics "
            "from GAN epoch 2, each epoch's generated 9-frame sequences; random = smooth random DH sequences, "
            "10,000 per epoch into every training camera, each DOF its draw plus 3 slow cosines, the pelvis on "
            "a real window's path; both: a synthetic pass before the real pass, fields of view 30-100 deg). "
            "Overrides: " + (" ".join(a.overrides) or "none") + ". "
            "Test: S9+S11 every 8th frame as window centre — NAME = windows of consecutive frames (the "
            "paper's protocol: 50 fps on H36M, 24 fps on cmu_test), NAME_train_rate = windows at the training "
            "frame rate (5 fps; step 10 on H36M, 5 on cmu_test); cmu_test every frame, flip test."
        )
    else:
        separate = "train.synthetic_batches=separate" in a.overrides
        notes = (
            "Train S1 (GT 2D, every 8th frame), 6 epochs, lr 1e-3 linear decay, batch 256, flip, seed(s) "
            f"{a.seeds}. Augmentation: {a.augment} (random = the paper's 'normal' random DH mode, 10,000 poses "
            "per epoch into every training camera; dhaug = the DH-AUG GAN, 3 GAN-only warm-up epochs, then "
            "each epoch's generated pairs; both: "
            + ("a synthetic pass before each real pass" if separate else "mixed into the real batches")
            + ", fields of view "
            "30-100 deg unless overridden; poseaug = PoseAug's augmentor of the real pairs: 3 real-only "
            "epochs, its 2 GAN warm-up epochs overlapping the last two, then 3 joint epochs with its "
            "pairs " + ("as a synthetic pass" if separate else "mixed in") + ", the training cameras' own fields of "
            "view). Overrides: " + (" ".join(a.overrides) or "none") + ". "
            "Test: every 8th frame of S9+S11 (all cameras); cmu_test.npz all frames with flip test."
        )
    cross = cross_label(a.cross)
    run_protocol(
        a.stem,
        runs,
        a.overrides,
        a.out,
        f"quick protocol (CPU): S1 -> S9+S11 and {cross}, GT 2D",
        notes,
        a.cross,
        a.data_dir,
    )
