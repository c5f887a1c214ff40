"""``full`` paper protocol: S1,S5,S6,S7,S8 → S9+S11 (all frames) and cmu_test.npz, GT 2D (or
``--keypoints sh``), with the settings of configs/full_<model>.yaml. Runs on CPU but is meant for a GPU.

* single-frame (``videopose mlp semgcn``): 50 + 60 epochs, lr 1e-4, batch 1024. Paper no-augmentation
  baselines (H36M GT, MPJPE): SemGCN 44.4, SimpleBaseline 43.3, VPose 41.8 mm.
* video (``videopose9 videopose27 poseformer9``): training frames subsampled ×10, 9/27-frame windows,
  lr 1e-3 (PoseFormer 2e-4), batch 512, 50 + 60 epochs; ``--augment none dhaug-video``. Paper GT-2D
  numbers (method.md §10): VPose f=9 H36M 42.14 → 41.21, 3DHP 90.7 → 80.39; PoseFormer f=9 42.02 → 39.29,
  3DHP 85.28 → 76.25.

Run from the repository root:  python benchmarks/full.py [--models ...] [--augment ...] [--seeds 0 ...]
[--keypoints sh] [--cross FILE ...] [--stem NAME] [key=value ...]
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
        help="configs/full_<model>.yaml to run, e.g. videopose mlp semgcn videopose9 videopose27 poseformer9",
    )
    ap.add_argument("--keypoints", default="gt")
    ap.add_argument("--augment", nargs="+", default=["none"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--out", default="runs/bench_full")
    ap.add_argument("--stem", help="results file name under benchmarks/results/ (default full_<keypoints>)")
    add_data_arguments(ap)
    ap.add_argument("overrides", nargs="*", help="config overrides for every run, key=value")
    a = ap.parse_args()
    runs = [
        Run(f"full_{m}", [f"augment.method={aug}", f"train.seed={seed}"])
        for m in a.models
        for aug in a.augment
        for seed in a.seeds
    ]
    cross = cross_label(a.cross)
    run_protocol(
        a.stem or f"full_{a.keypoints}",
        runs,
        a.overrides + [f"data.keypoints={a.keypoints}"],
        a.out,
        f"full protocol: S1,S5,S6,S7,S8 -> S9+S11 and {cross}, {a.keypoints} 2D",
        f"Settings of configs/full_<model>.yaml for models {a.models}; augmentation {a.augment}; seeds {a.seeds}; "
        "overrides: "
        + (" ".join(a.overrides) or "none")
        + ". All test frames. "
        + __doc__.split("\n\n")[1].replace("\n", " "),
        a.cross,
        a.data_dir,
    )
