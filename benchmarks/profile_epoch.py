"""Where the time of a medium epoch goes: seconds per section of ``dhaug.train`` for ``none``, ``random``,
``dhaug`` and ``poseaug`` (VideoPose-1f, ``configs/medium_videopose.yaml``).

Each variant trains one pose-net epoch (``train.epochs=1``; DH-AUG and PoseAug after one GAN-only warm-up
epoch, ``augment.gan.warmup=0`` / ``augment.poseaug.warmup=1``) under a :class:`dhaug.timing.Timer`, on every ``--train-every``-th pair
of the medium training set (4: every 40th frame), with the per-epoch test curves of the protocol
(``train.curve_every`` of the protocol on all of S9+S11 and CMU). The last evaluation of a run is not part of an epoch and is
skipped. Sections: pose-net forward+backward, optimiser (clip + Adam), batch assembly and mirroring;
synthetic pairs (random: DH draws + FK, projection; GAN: real-pair set-up, generator forward + FK +
projection, critic steps, generator steps, fake buffer; PoseAug: augmentor step, feedback, critics,
buffer; joining them to the real pairs); per-epoch curves; checkpoint; logging (TensorBoard + the epoch
line); "other" is the epoch's wall time outside every section. The "medium epoch" column scales the
sections that grow with the training pairs by ``--train-every`` (curves and checkpoint do not).

Run from the repository root (one torch job at a time):

    python benchmarks/profile_epoch.py [--variants none random dhaug poseaug] [--train-every 4] [--stem profile_epoch]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import SHARED, machine, require, write

import dhaug.train as train_module
from dhaug.config import load_config
from dhaug.data import load_experiment_data
from dhaug.timing import Timer

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {
    "none": ["augment.method=none"],
    "random": ["augment.method=random"],
    "dhaug": ["augment.method=dhaug", "augment.gan.warmup=0"],
    "poseaug": ["augment.method=poseaug", "augment.poseaug.warmup=1"],
}
#: Sections whose cost does not grow with the number of training pairs ("synthetic/pairs": what a source does
#: outside its own sections, i.e. its pictures, before they had a section of their own).
FIXED = ("eval/curves", "io/checkpoint", "synthetic/pictures", "synthetic/pairs")
#: Variants whose synthetic pairs per epoch do not grow with the real pairs (augment.num_poses draws).
FIXED_SYNTHETIC = ("random",)


def medium_epoch(variant: str, secs: dict, real: int, fake: int, scale: int) -> float:
    """The epoch's seconds at ``scale`` times the real pairs: per-pair sections scaled by how much the pairs
    they see grow (a fixed-size random draw does not), curves and checkpoint as measured."""
    fixed_fake = variant in FIXED_SYNTHETIC
    pose = (scale * real + (fake if fixed_fake else scale * fake)) / max(1, real + fake)
    total = 0.0
    for k, v in secs.items():
        if k in FIXED:
            total += v
        elif k.startswith("pose/") or k == "other":
            total += v * pose
        elif k.startswith("synthetic/") and fixed_fake:
            total += v
        else:
            total += v * scale
    return total


def profile(variant: str, data, cfg_overrides: list[str], out: Path, scale: int) -> list[dict]:
    cfg = load_config(
        REPO / "configs" / "medium_videopose.yaml",
        cfg_overrides + VARIANTS[variant] + ["train.epochs=1", "train.tail_epochs=0", f"out_dir={out}"],
    )
    epochs: list[dict] = []
    timer = Timer()
    real_save = train_module._save
    mark = {"t": time.perf_counter()}

    def save_and_mark(run, cfg_, epoch, history, path):  # an epoch ends with its checkpoint
        real_save(run, cfg_, epoch, history, path)
        now = time.perf_counter()
        epochs.append(
            {
                "seconds": dict(timer.seconds),
                "wall": now - mark["t"],
                "fake_pairs": history[-1].get("fake_pairs", 0)
                if history[-1]["train_loss"] == history[-1]["train_loss"]
                else 0,
                "real_pairs": len(run.x),
            }
        )
        timer.reset()
        mark["t"] = now

    train_module._save = save_and_mark
    train_module.evaluate_experiment = lambda *a, **k: {}  # the run's final evaluation is not an epoch's work
    train_module.report = lambda *a, **k: None
    train_module.summary_line = lambda results: "(final evaluation skipped by the profile)"
    try:
        with timer:
            mark["t"] = time.perf_counter()
            train_module.train(cfg, data=data, progress=False)
    finally:
        train_module._save = real_save
    rows = []
    for i, e in enumerate(epochs):
        kind = "warm-up (no pose-net step)" if i < len(epochs) - 1 else "pose-net epoch"
        secs = dict(e["seconds"])
        # the epoch line is printed inside io/logging; whatever ran outside every section is "other"
        secs["other"] = max(0.0, e["wall"] - sum(secs.values()))
        rows.append(
            {
                "variant": variant,
                "epoch": i + 1,
                "kind": kind,
                "wall_s": e["wall"],
                "sections": secs,
                "real_pairs": e["real_pairs"],
                "fake_pairs": e["fake_pairs"],
            }
        )
        print(
            f"{variant} epoch {i + 1} ({kind}): {e['wall']:.1f} s "
            + ", ".join(f"{k} {v:.1f}" for k, v in sorted(secs.items(), key=lambda kv: -kv[1])),
            flush=True,
        )
    return rows


def markdown(rows: list[dict], scale: int, info: dict, pairs: int) -> str:
    names = sorted({k for r in rows for k in r["sections"]}, key=lambda k: (k == "other", k))
    head = (
        "| section | "
        + " | ".join(f"{r['variant']} {'warm-up' if r['kind'].startswith('warm') else 'epoch'}" for r in rows)
        + " |"
    )
    lines = [
        "# Where a medium epoch's time goes (VideoPose-1f)",
        "",
        f"Measured: one epoch per column on every {scale}-th medium training pair ({pairs} real pairs), "
        f"test curves at the protocol's size; seconds per section (`python benchmarks/profile_epoch.py "
        f"--train-every {scale}`). Last row: the epoch scaled to the medium set (each section by how much the "
        f"pairs it sees grow: real pairs and GAN/PoseAug pairs x {scale}, the fixed random draw not; curves "
        f"and checkpoint and pictures as measured). 'other': outside every section (the first epoch includes the set-up); "
        f"'synthetic/pairs': the source's work outside its own sections (its pictures, where they have no section).",
        "",
        head,
        "|---|" + "---|" * len(rows),
    ]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(f"{r['sections'].get(n, 0.0):.1f}" for r in rows) + " |")
    lines.append("| synthetic pairs in the pose pass | " + " | ".join(f"{r['fake_pairs']}" for r in rows) + " |")
    lines.append("| **wall (measured)** | " + " | ".join(f"**{r['wall_s']:.1f}**" for r in rows) + " |")
    lines.append(
        "| **medium epoch (scaled)** | "
        + " | ".join(
            f"**{medium_epoch(r['variant'], r['sections'], r['real_pairs'], r['fake_pairs'], scale):.0f}**"
            for r in rows
        )
        + " |"
    )
    lines += ["", f"Machine: {info}", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--train-every", type=int, default=4, help="use every k-th medium training pair (1: all)")
    ap.add_argument("--stem", default="profile_epoch")
    ap.add_argument(
        "overrides", nargs="*", help="config overrides for every run, key=value (e.g. train.precision=fp32)"
    )
    ap.add_argument("--table", action="store_true", help="only rebuild the markdown from the JSON of the last run")
    a = ap.parse_args()
    if a.table:
        import json

        from common import RESULTS

        payload = json.loads((RESULTS / f"{a.stem}.json").read_text())
        rows = payload["rows"]
        write(
            a.stem,
            payload,
            markdown(rows, payload["train_every"], payload["machine"], rows[0]["real_pairs"] if rows else 0),
        )
        return
    data_dir = require(SHARED / "h36m")
    cmu = require(SHARED / "cmu" / "cmu_test.npz")
    over = [
        f"data.data_dir={data_dir}",
        f"data.cross_sets=[{cmu}]",
        f"data.downsample={10 * a.train_every}",
    ] + a.overrides
    cfg = load_config(REPO / "configs" / "medium_videopose.yaml", over)
    t0 = time.perf_counter()
    data = load_experiment_data(cfg.data)
    print(f"data loaded in {time.perf_counter() - t0:.0f} s: {len(data.train)} training pairs", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for v in a.variants:
            rows += profile(v, data, over, Path(tmp) / v, a.train_every)
    info = machine()
    write(
        a.stem,
        {"rows": rows, "train_every": a.train_every, "overrides": a.overrides, "machine": info},
        markdown(rows, a.train_every, info, len(data.train)),
    )


if __name__ == "__main__":
    main()
