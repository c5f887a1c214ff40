"""Old commit against new, side by side on one machine: the same short medium-protocol run trained by two
checkouts, one after the other (never at once: two torch jobs slow each other).

Each run is ``configs/medium_videopose.yaml`` on every ``--train-every``-th training pair with one pose-net
epoch (``train.epochs=1``, no tail) after the variant's own GAN warm-up, the protocol's per-epoch curves and
its final evaluation (all of S9+S11 and CMU). Reported per run: the wall time of the whole command, the
seconds of the epochs (GAN passes and pose-net passes, without curves) and the GAN pass alone.

    git worktree add /tmp/dhaug-old d688edd
    python benchmarks/speed.py --old /tmp/dhaug-old [--variants none dhaug] [--train-every 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SHARED, machine, require, write

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {
    "none": ["augment.method=none"],
    "random": ["augment.method=random"],
    "dhaug": ["augment.method=dhaug"],
    "poseaug": ["augment.method=poseaug"],
}
LAUNCH = "import sys; sys.path.insert(0, '.'); from dhaug.cli import main; sys.exit(main(sys.argv[1:]))"


def git_commit(repo: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=repo
    ).stdout.strip()


def run(repo: Path, variant: str, every: int, out: Path, extra: list[str]) -> dict:
    cmu = require(SHARED / "cmu" / "cmu_test.npz")
    args = (
        [
            "train",
            "--config",
            str(repo / "configs" / "medium_videopose.yaml"),  # each checkout its own (older ones lack _base_)
            "--no-progress",
            f"data.data_dir={require(SHARED / 'h36m')}",
            f"data.cross_sets=[{cmu}]",
            f"data.downsample={10 * every}",
            "train.epochs=1",
            "train.tail_epochs=0",
            f"out_dir={out}",
        ]
        + VARIANTS[variant]
        + extra
    )
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", LAUNCH, *args], cwd=repo, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{repo} {variant} failed:\n{p.stderr[-2000:]}")
    hist = json.loads((out / "results.json").read_text())["history"]
    res = json.loads((out / "results.json").read_text())["results"]
    return {
        "repo": str(repo),
        "commit": git_commit(repo),
        "variant": variant,
        "wall_s": wall,
        "epochs_s": sum(h["seconds"] for h in hist),
        "gan_s": sum(h.get("gan/seconds", 0.0) for h in hist),
        "loop_epochs": len(hist),
        "h36m_mpjpe": res["h36m"]["frame_mean"]["mpjpe"],
        "curves": sum(1 for h in hist if any(k.startswith("eval/") for k in h)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="a checkout of the older commit (git worktree add DIR COMMIT)")
    ap.add_argument("--variants", nargs="+", default=["none", "dhaug"], choices=list(VARIANTS))
    ap.add_argument("--train-every", type=int, default=4)
    ap.add_argument("--stem", default="speed_side_by_side")
    ap.add_argument("new_overrides", nargs="*", help="key=value for the new checkout only (settings the old lacks)")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for v in a.variants:
            for label, repo in (("old", Path(a.old).resolve()), ("new", REPO)):
                extra = a.new_overrides if label == "new" else []
                r = run(repo, v, a.train_every, Path(tmp) / f"{label}_{v}", extra)
                r["label"] = label
                rows.append(r)
                print(r, flush=True)
    info = machine()
    md = [
        "# Old vs new commit, side by side",
        "",
        f"`python benchmarks/speed.py --old OLD --train-every {a.train_every} {' '.join(a.new_overrides)}`: each variant trained by both checkouts "
        f"one after the other on this machine: medium VideoPose-1f config, every {a.train_every}-th training pair, one "
        "pose-net epoch after the variant's GAN warm-up, the protocol's curves and final evaluation. Seconds.",
        "",
        "| variant | commit | loop epochs | epochs with curves | epochs (s) | GAN passes (s) | whole run (s) | H36M MPJPE (mm) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['variant']} | {r['commit']} ({r['label']}) | {r['loop_epochs']} | {r['curves']} | {r['epochs_s']:.0f} | "
        f"{r['gan_s']:.0f} | {r['wall_s']:.0f} | {r['h36m_mpjpe']:.1f} |"
        for r in rows
    ]
    md += ["", f"Machine: {info}", ""]
    write(a.stem, {"rows": rows, "train_every": a.train_every, "machine": info}, "\n".join(md))


if __name__ == "__main__":
    main()
