"""Does a trained lifter's error depend on which data its BatchNorm statistics came from?

With ``train.synthetic_batches=separate`` training runs a synthetic pass and then a real pass each epoch,
and every batch holds one kind only, so BatchNorm normalises synthetic batches with synthetic statistics
and real ones with real statistics; the running statistics the evaluation uses are those of the last
(real) pass (``mixed``, the single-frame default: of the mixed pass). This probe evaluates a
finished run (``dhaug train`` folder with checkpoint.pt and config.yaml, e.g. a ``benchmarks/medium.py``
run) as trained, then with the running statistics re-estimated (cumulative average over 150 batches of
1024 and their mirror images, weights unchanged) on the real training pairs, on epoch 0's synthetic
pairs of the run's augmentation (``--epoch last``: the pairs of one more pass of its last epoch, from the
source's saved state — a learned source such as PoseAug has none at epoch 0), and on both mixed.
In-domain test: every 10th frame; cross-dataset sets with flip test.

    python benchmarks/bn_stats.py runs/medium/videopose_random_s0 [--stem bn_stats_random_s0]
    python benchmarks/bn_stats.py runs/medium_val/val_videopose_poseaug_s0 --epoch last
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import machine, write
from torch import nn

from dhaug import checkpoint
from dhaug.augment import build_source
from dhaug.config import load_config
from dhaug.data import load_experiment_data
from dhaug.evaluate import evaluate_set
from dhaug.models import build_model
from dhaug.skeleton import mirror_pose


def score(model: nn.Module, tests: dict, cross: set[str]) -> dict[str, float]:
    """Frame-mean MPJPE on every test set; the cross-dataset ones (names in ``cross``) with flip test."""
    return {
        name: evaluate_set(model, ps, "cpu", flip_test=name in cross)["frame_mean"]["mpjpe"]
        for name, ps in tests.items()
    }


def reestimate(model: nn.Module, x: torch.Tensor, batches: int = 150, batch: int = 1024, seed: int = 0) -> None:
    """Reset every BatchNorm's running statistics and average them over ``batches`` random batches of ``x``
    (N, 16, 2) and its mirror image, the whole model in training mode as when the statistics were made
    (dropout on: a BatchNorm after a dropout layer saw its variance; without it, re-estimating on the very
    pairs the run trained on moved a PoseAug run's H36M error by 8 mm, 56.6 -> 64.6)."""
    x = torch.cat([x, mirror_pose(x)])  # the training steps saw mirrored batches too
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))]
    if not bns:
        raise SystemExit("the model has no BatchNorm layers: nothing to re-estimate")
    momentum = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(batches):
            model(x[torch.randint(len(x), (batch,), generator=g)])
    for m, mo in zip(bns, momentum):
        m.momentum = mo
    model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a finished dhaug train folder (checkpoint.pt, config.yaml)")
    ap.add_argument("--stem", help="results file name (default bn_stats_<run folder>)")
    ap.add_argument(
        "--epoch", choices=("0", "last"), default="0", help="the loop epoch whose synthetic pairs are drawn"
    )
    a = ap.parse_args()
    run = Path(a.run)
    cfg = load_config(str(run / "config.yaml"))
    cfg.data.test_downsample = 10
    cfg.augment.monitor_every = 0  # no pictures into the run's folder
    data = load_experiment_data(cfg.data)
    state = checkpoint.load(run / "checkpoint.pt")
    model = build_model(cfg.model)
    model.load_state_dict(state["model"])
    source = build_source(cfg, data, torch.device("cpu"))
    if source is None:
        raise SystemExit(f"{run}: trained without augmentation; no synthetic pairs to compare with")
    epoch = 0
    if a.epoch == "last":
        source.attach(model)  # PoseAug's feedback reads the pose net
        source.load_state_dict(state["augmenter"])
        epoch = state["epoch"] - 1  # the last loop epoch (warm-up epochs included)
    _, synthetic, _ = source.epoch_pairs(epoch, False)
    real, _ = data.train.tensors()
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    last = "mixed real + synthetic" if cfg.train.mixed_batches(cfg.model.frames) else "real"
    rows = [(f"as trained (running statistics of the last, {last}, pass)", score(model, data.tests, set(data.cross)))]
    for label, x in [
        ("re-estimated on the real training pairs", real),
        (f"re-estimated on {cfg.augment.method} synthetic pairs", synthetic),
        ("re-estimated on real + synthetic pairs", torch.cat([real, synthetic])),
    ]:
        model.load_state_dict(trained)
        reestimate(model, x)
        rows.append((label, score(model, data.tests, set(data.cross))))
        print(label, rows[-1][1], flush=True)
    sets = list(data.tests)
    md = [
        f"# BatchNorm statistics of {run} (epoch {state['epoch']}, augment {cfg.augment.method})",
        "",
        f"Real training pairs: {len(real)}; synthetic pairs (loop epoch {epoch} of the run's source): {len(synthetic)}. "
        "Weights unchanged; MPJPE in mm (in-domain: every 10th frame; cross-dataset sets: flip test).",
        "",
        "| BatchNorm running statistics | " + " | ".join(sets) + " |",
        "|---|" + "---|" * len(sets),
    ]
    md += [f"| {label} | " + " | ".join(f"{r[s]:.1f}" for s in sets) + " |" for label, r in rows]
    md += ["", f"Machine: {machine()}", ""]
    write(
        a.stem or f"bn_stats_{run.name}",
        {
            "run": str(run),
            "epoch": state["epoch"],
            "method": cfg.augment.method,
            "rows": [{"statistics": lab, **r} for lab, r in rows],
            "machine": machine(),
        },
        "\n".join(md),
    )


if __name__ == "__main__":
    main()
