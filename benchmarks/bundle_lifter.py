"""Make the bundled lifter (``dhaug/weights/lifter.pt`` + ``MODEL_CARD.md``) from a finished medium run: its
network weights as float16 (the file stays under 8 MB), its config and epoch, nothing else; then score
the bundled file itself with ``dhaug evaluate`` on the medium test sets and write the model card.

    python benchmarks/bundle_lifter.py --label videopose_dhaug-c512_s0 [--force]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import SHARED, require
from medium import RUNS, cmu_parts

from dhaug import checkpoint

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "dhaug" / "weights"
LIMIT_BYTES = 8 * 1024 * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", required=True, help="a medium run: benchmarks/results/medium_runs/<label>.json")
    ap.add_argument("--runs", default="runs/medium", help="where benchmarks/medium.py trained (its --out)")
    ap.add_argument("--force", action="store_true", help="replace an existing dhaug/weights/lifter.pt")
    a = ap.parse_args()
    summary = json.loads(require(RUNS / f"{a.label}.json").read_text())
    target = WEIGHTS / "lifter.pt"
    if target.exists() and not a.force:
        raise SystemExit(f"error: {target} exists; give --force to replace it")
    state = checkpoint.load(require(REPO / a.runs / a.label / "checkpoint.pt"))
    weights = {k: (v.half() if v.is_floating_point() else v) for k, v in state["model"].items()}
    bundle = {
        "model": weights,
        "config": state["config"],
        "epoch": state["epoch"],
        "provenance": {
            "run": a.label,
            "commit": summary["commit"],
            "seed": summary["seed"],
            "weights": "float16 copies of the run's float32 weights",
        },
    }
    checkpoint.save_atomic(bundle, target)
    size = target.stat().st_size
    if size > LIMIT_BYTES:
        target.unlink()
        raise SystemExit(f"error: the bundle would be {size / 2**20:.1f} MB (> 8 MB): train a smaller model")

    data = REPO / a.runs / "data"
    cross = [
        p
        for name, p in cmu_parts(require(SHARED / "cmu" / "cmu_test.npz"), data).items()
        if not name.endswith("_other")
    ]
    out = REPO / "runs" / "bundle_eval"
    cmd = [
        sys.executable,
        "-m",
        "dhaug",
        "evaluate",
        "--checkpoint",
        str(target),
        "--out",
        str(out),
        "--h36m",
        "--data-dir",
        str(SHARED / "h36m"),
    ] + [x for c in cross for x in ("--cross", str(c))]
    subprocess.run(cmd, check=True)
    bundled = json.loads((out / "results.json").read_text())["results"]
    card(summary, bundled, size, sum(v.numel() for v in weights.values() if v.is_floating_point()))
    print(f"wrote {target} ({size / 2**20:.2f} MB) and {WEIGHTS / 'MODEL_CARD.md'}")


def card(summary: dict, bundled: dict, size: int, params: int) -> None:
    cfg = summary["config"]
    rows = []
    for name in ("h36m", "cmu_val", "cmu_heldout"):
        run, ours = summary["results"][name]["frame_mean"], bundled[name]["frame_mean"]
        rows.append(
            f"| {name} | {run['mpjpe']:.1f} / {run['p_mpjpe']:.1f} | {ours['mpjpe']:.1f} / {ours['p_mpjpe']:.1f} | "
            f"{ours['pck']:.1f} | {ours['auc']:.1f} | {ours['frames']:,} |"
        )
    m = summary["machine"]
    text = f"""# Model card: the bundled lifter (`dhaug/weights/lifter.pt`)

**Research use only.** These weights were trained on Human3.6M, whose licence allows academic,
non-commercial research only; the weights carry the same restriction. Do not use them commercially.

## What it is
A single-frame VideoPose3D lifter ({cfg["model"]["channels"]} channels, {cfg["model"]["stages"]} stages,
{params / 1e6:.2f} M parameters, stored as float16: {size / 2**20:.1f} MB) that maps 16 normalised 2D joints
(Human3.6M order, screen coordinates `x / w * 2 - [1, h / w]`) to root-relative 3D joints in metres, camera
axes. `dhaug lift` uses it when no `--checkpoint` is given, with the flip test.

## How it was trained
The `medium` protocol of `benchmarks/medium.py` (`configs/medium_videopose.yaml` with `model.channels=512`):
Human3.6M S1, S5, S6, S7, S8, ground-truth 2D, every 10th frame (146,724 pairs), {cfg["train"]["epochs"] + cfg["train"]["tail_epochs"]} pose-net epochs ({cfg["train"]["epochs"]} with linear
LR decay from 1e-3, a {cfg["train"]["tail_epochs"]}-epoch tail), Adam, batch 1024, augmented with DH-AUG (`augment.method=dhaug`: the
GAN's generated pairs mixed into the real batches after 3 GAN-only epochs, our defaults), seed
{summary["seed"]}, the last epoch kept (no checkpoint selection on any test set). Run `{summary["label"]}`,
commit `{summary["commit"]}`, {m.get("cpu") or "CPU not recorded"}, {summary["precision"]}, {summary["wall_s"] / 60:.0f} min.

Reproduce: `python benchmarks/medium.py --models videopose --variants dhaug --seeds 0 --tag c512 model.channels=512`,
then `python benchmarks/bundle_lifter.py --label {summary["label"]}`.

## Scores
Frame-weighted MPJPE / P-MPJPE (mm); CMU with the flip test. `cmu_val` (CMU subject 02's clips) is the
validation split our defaults were chosen on; `cmu_heldout` (the other 36 clips) was never used for a
choice; Human3.6M is S9 + S11, all frames. *Run*: the float32 network at the end of training; *bundled*: this
file, scored with `dhaug evaluate` (float16 weights, computed in float32).

| test set | run (fp32) | bundled | PCK (150 mm) | AUC | frames |
|---|---|---|---|---|---|
{chr(10).join(rows)}

## Limits
Trained on ground-truth 2D of one capture studio: detector noise, other camera heights and unusual poses
raise its error (cross-dataset numbers above are 1.5-2x Human3.6M's). It sees one frame at a time (no
temporal smoothing besides `dhaug lift --smooth`), one person, and predicts the 16-joint Human3.6M skeleton
without hands, feet or face. Its scale comes from the training subjects' bone lengths.
"""
    (WEIGHTS / "MODEL_CARD.md").write_text(text)


if __name__ == "__main__":
    main()
