"""Which synthetic poses cover the poses of people the lifter has never seen? Diversity beside realism.

For every pose of a *target* set, the angle to its nearest pose in each *source*
(``dhaug.augment.realism.nearest_real_angle``: mean angle between corresponding bones, heading and
bone lengths removed); every source holds the same number of poses, so a lower angle means the
source holds more poses like the target's. The other direction, each source's *realism*, is the angle
from its poses to the nearest real H36M training pose (low = looks like the training people; the
quantity ``benchmarks/realism.py`` reports against S1).

Targets: ``cmu_val`` (default) — CMU subject 02's clips in cmu_test.npz, one camera per clip (every pose
once), the declared validation split of ``benchmarks/medium.py``; ``h36m-test`` — S9+S11, every 10th
frame. Sources: the H36M training poses (S1,S5,S6,S7,S8), random DH poses (the paper's 'normal' mode,
random yaw), and the generator of each ``--runs`` folder (``dhaug train --augment dhaug``; video
generators: every frame of each window). The CMU skeleton's definitional differences (narrower hips,
wider shoulders) add a floor that is the same for every source.

    python benchmarks/coverage.py [--runs runs/medium/videopose_dhaug_s0 ...] [--poses 20000] [--target cmu_val]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from common import SHARED, machine, require, run_labels, world_poses, write
from realism import generated

from dhaug.augment import RandomDHAugmenter
from dhaug.augment.realism import nearest_real_angle
from dhaug.camera import load_cameras
from dhaug.data.h36m import load_positions_3d
from dhaug.kinematics import get_body_model
from dhaug.kinematics.data_limits import limit_table
from dhaug.skeleton import bone_lengths

TRAIN, TEST = ["S1", "S5", "S6", "S7", "S8"], ["S9", "S11"]
#: CMU world (Y up) -> a Z-up frame (x, -z, y); a rotation, so left and right stay as they are.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def cmu_world(path: Path, source: str = "amc") -> torch.Tensor:
    """(N, 16, 3) Z-up world poses of the clips of cmu_test.npz whose ``seq_names`` source is ``source``
    (``amc``: CMU subject 02's own clips = cmu_val), each clip through its first camera only."""
    d = np.load(path, allow_pickle=False)
    meta = [json.loads(str(s)) for s in d["seq_names"]]
    first: dict[str, int] = {}
    for i, m in enumerate(meta):
        if m["source"] == source:
            first.setdefault(m["clip"], i)
    keep = np.isin(d["seq"], list(first.values()))
    if not keep.any():
        raise SystemExit(f"{path}: no sequences with source {source!r} in seq_names")
    R, t = d["cam_R"][d["seq"][keep]], d["cam_t"][d["seq"][keep]]
    world = np.einsum("nji,nkj->nki", R, d["pose3d"][keep] - t[:, None])  # X_w = R^T (X_c - t)
    return torch.as_tensor(world @ Y_UP_TO_Z_UP.T / 1000.0, dtype=torch.float32)


def stats(a: torch.Tensor) -> dict:
    x = a.numpy()
    return {"mean_deg": float(x.mean()), "median_deg": float(np.median(x)), "p90_deg": float(np.percentile(x, 90))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="*", default=[], help="dhaug train output folders (with checkpoint.pt)")
    ap.add_argument("--labels", nargs="*", help="a label per run (default: the folder)")
    ap.add_argument("--target", choices=["cmu_val", "h36m-test"], default="cmu_val")
    ap.add_argument("--poses", type=int, default=20_000, help="poses per source")
    ap.add_argument("--realism-poses", type=int, default=5_000, help="poses per source scored for realism")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stem", default="coverage")
    args = ap.parse_args()
    labels = run_labels(args.runs, args.labels)

    positions = load_positions_3d(require(SHARED / "h36m" / "data_3d_h36m.npz"))
    train = world_poses(positions, TRAIN, 1)
    reference = world_poses(positions, TRAIN, 10)  # realism reference: the medium protocol's training frames
    target = (
        cmu_world(require(SHARED / "cmu" / "cmu_test.npz"))
        if args.target == "cmu_val"
        else world_poses(positions, TEST, 10)
    )
    g = torch.Generator().manual_seed(args.seed)
    bones = bone_lengths(train[torch.randint(len(train), (256,), generator=g)])
    paper = get_body_model("paper")
    rand = RandomDHAugmenter(
        paper, bones, train[:1, 0], load_cameras()["S1"], limits=limit_table("normal", "paper"), seed=args.seed
    )
    sources = [
        ("H36M training poses (S1,S5-S8)", train[torch.randperm(len(train), generator=g)[: args.poses]], "real"),
        ("random DH ('normal' limits)", rand.sample_world(args.poses, g), "RandomDHAugmenter"),
    ]
    for run, label in zip(args.runs, labels):
        world, info = generated(Path(run), args.poses, args.seed, bones)  # (n * T, 16, 3) for a video generator
        sources.append((label, world[: args.poses], f"{info['method']}, epoch {info['epoch']}, seed {info['seed']}"))

    rows = []
    for label, poses, info in sources:
        cover = nearest_real_angle(target, poses)
        real = nearest_real_angle(poses[: args.realism_poses], reference)
        rows.append(
            {
                "source": label,
                "what": info,
                "poses": len(poses),
                **{f"coverage_{k}": v for k, v in stats(cover).items()},
                **{f"realism_{k}": v for k, v in stats(real).items()},
            }
        )
        print(
            f"{label}: coverage {rows[-1]['coverage_mean_deg']:.1f} deg, realism {rows[-1]['realism_mean_deg']:.1f} deg",
            flush=True,
        )
    md = [
        f"# {args.stem}: how well each source covers {args.target} ({len(target)} poses), and how real it looks",
        "",
        "| source | poses | coverage mean | median | p90 | realism mean | median | p90 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['source']} | {r['poses']} | {r['coverage_mean_deg']:.1f} | {r['coverage_median_deg']:.1f} | "
        f"{r['coverage_p90_deg']:.1f} | {r['realism_mean_deg']:.1f} | {r['realism_median_deg']:.1f} | "
        f"{r['realism_p90_deg']:.1f} |"
        for r in rows
    ]
    md += [
        "",
        f"*Coverage*: mean bone angle (deg) from each {args.target} pose to its nearest pose of the source "
        f"({args.poses} poses each; lower = the source holds poses like the target's). *Realism*: from "
        f"{args.realism_poses} poses of the source to the nearest H36M training pose (every 10th frame of "
        f"S1,S5-S8, {len(reference)} poses; lower = more like the training people). Heading and bone lengths "
        f"removed (`dhaug.augment.realism`); the training poses' own realism is near 0 by construction (their "
        f"reference is every 10th of the same frames). Seed {args.seed}.",
        "",
        f"Machine: {machine()}",
        "",
    ]
    write(
        args.stem,
        {"target": args.target, "target_poses": len(target), "rows": rows, "machine": machine()},
        "\n".join(md),
    )


if __name__ == "__main__":
    main()
