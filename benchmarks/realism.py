"""How real do generated poses look? Nearest-real-pose angle (``dhaug.augment.realism``) of the poses of
trained DH-AUG generators, against real poses of subjects the reference does not hold and against
random DH poses.

Reference: the world poses of the training subject (S1, every 5th frame). Scales: real poses of
S5, S6, S7, S8 (other people, same actions; every 20th frame), the same poses passed through the
paper's body model (IK then FK: what the generator's skeleton can express at best) and random DH
poses (the paper's "normal" mode, S1 bones). Each run folder (``dhaug train --augment
dhaug|dhaug-video``) gives its generator's poses: ``--sequences`` noise vectors (video: every frame
of each window), S1 bone template and cameras, fixed seed — the same draw as ``dhaug show-poses
--checkpoint``.

Writes ``results/STEM.json|.md``, ``STEM.png`` (distributions) and ``STEM_worst.png`` (the least
real-looking generated poses of each run next to their nearest real pose).

    python benchmarks/realism.py --runs runs/bench_qv_dhaug_s0/00_quick_videopose9 ... --stem quick_video_realism
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from common import RESULTS, SHARED, machine, require, run_labels, world_poses, write

from dhaug import checkpoint
from dhaug.augment import CameraSet, RandomDHAugmenter, generator_from_checkpoint
from dhaug.augment.dhaug.video import joint_acceleration
from dhaug.augment.realism import canonical_directions, nearest_real_angle
from dhaug.camera import load_cameras
from dhaug.data.h36m import load_positions_3d
from dhaug.kinematics import forward_kinematics, get_body_model
from dhaug.kinematics.data_limits import limit_table
from dhaug.kinematics.ik import inverse_kinematics
from dhaug.skeleton import H36M16, bone_lengths

UNSEEN = ["S5", "S6", "S7", "S8"]


def generated(run: Path, n: int, seed: int, bones: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """(n * T, 16, 3) world poses of the run's generator, and facts about the run."""
    state = checkpoint.load(run / "checkpoint.pt")
    G, cfg = generator_from_checkpoint(state, str(run))
    fake = G.draw(n, CameraSet.from_cameras(load_cameras()["S1"]), bones.reshape(-1, 15)[:1], seed=seed)
    world = fake["world"]
    info = {
        "run": str(run),
        "method": cfg.augment.method,
        "epoch": state["epoch"],
        "frames": getattr(G, "frames", 1),
        "temporal_basis": len(G.basis) if hasattr(G, "basis") else 0,
        "n_critic": cfg.augment.gan.n_critic,
        "seed": cfg.train.seed,
    }
    if world.dim() == 4:  # video: (n, T, 16, 3)
        info["accel_mm_per_frame2"] = 1000 * float(joint_acceleration(world).mean())
        world = world.flatten(0, 1)
    return world, info


def summary(angles: torch.Tensor, threshold: float) -> dict:
    a = angles.numpy()
    return {
        "poses": len(a),
        "mean_deg": float(a.mean()),
        "median_deg": float(np.median(a)),
        "p90_deg": float(np.percentile(a, 90)),
        "p99_deg": float(np.percentile(a, 99)),
        "beyond_unseen_p99_pct": float(100 * (a > threshold).mean()),
    }


def plot(rows: list[tuple[str, torch.Tensor]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    top = max(float(a.max()) for _, a in rows)
    bins = np.linspace(0, top, 60)
    for label, a in rows:
        ax.hist(a.numpy(), bins=bins, density=True, histtype="step", lw=1.5, label=label)
    ax.set_xlabel("mean bone angle to the nearest real S1 pose (deg)")
    ax.set_ylabel("density")
    ax.set_title("How real do poses look? (0 = a pose of the training subject; heading and size removed)", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_worst(worst: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]], path: Path, k: int) -> None:
    """Per run: its k least real-looking poses (top row) above their nearest real S1 pose (bottom row)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2.0 * k, 4.2 * len(worst)))
    for r, (label, poses, nearest, angle) in enumerate(worst):
        for i in range(k):
            for row, (p, what) in enumerate([(poses[i], f"{angle[i]:.1f}°"), (nearest[i], "nearest real")]):
                ax = fig.add_subplot(2 * len(worst), k, (2 * r + row) * k + i + 1, projection="3d")
                p = (p - p[0]).numpy()
                for b, a in H36M16.bones:
                    ax.plot(*zip(p[b], p[a]), color="tab:red" if a in H36M16.left else "tab:blue")
                ax.set_xlim(-0.9, 0.9), ax.set_ylim(-0.9, 0.9), ax.set_zlim(-0.9, 0.9)
                ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
                ax.set_title(what if row else f"{label}\n{what}" if i == 0 else what, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def canonical_poses(world: torch.Tensor, bones: torch.Tensor) -> torch.Tensor:
    """Rebuild poses from their canonical (heading-free) bone directions with the given bone lengths."""
    d = canonical_directions(world) * bones[..., None]
    out = torch.zeros(*world.shape[:-2], 16, 3)
    for i, (parent, child) in enumerate(H36M16.bones):  # parents come before their children
        out[..., child, :] = out[..., parent, :] + d[..., i, :]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", required=True, help="dhaug train output folders (with checkpoint.pt)")
    ap.add_argument("--labels", nargs="+", help="a label per run (default: the folder)")
    ap.add_argument("--sequences", type=int, default=1024, help="noise vectors per generator")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worst", type=int, default=6, help="least real-looking poses drawn per run")
    ap.add_argument("--stem", default="realism")
    args = ap.parse_args()
    labels = run_labels(args.runs, args.labels)

    positions = load_positions_3d(require(SHARED / "h36m" / "data_3d_h36m.npz"))
    reference = world_poses(positions, ["S1"], 5)
    s1_bones = bone_lengths(reference).mean(0, keepdim=True)
    unseen = world_poses(positions, UNSEEN, 20)
    a_unseen = nearest_real_angle(unseen, reference)
    threshold = float(np.percentile(a_unseen.numpy(), 99))
    paper = get_body_model("paper")
    rand = RandomDHAugmenter(
        paper, s1_bones, reference[:1, 0], load_cameras()["S1"], limits=limit_table("normal", "paper"), seed=args.seed
    )
    a_random = nearest_real_angle(rand.sample_world(10_000, torch.Generator().manual_seed(args.seed)), reference)
    ik = inverse_kinematics(paper, unseen)
    a_model = nearest_real_angle(forward_kinematics(paper, ik.dofs, ik.bones, ik.rotation, ik.root), reference)
    rows = [
        ("real S5-S8 (unseen subjects)", a_unseen, {}),
        ("real S5-S8 through the paper body model (IK -> FK)", a_model, {}),
        ("random DH poses ('normal' limits)", a_random, {}),
    ]
    worst = []
    for run, label in zip(args.runs, labels):
        world, info = generated(Path(run), args.sequences, args.seed, s1_bones)
        a = nearest_real_angle(world, reference)
        rows.append((label, a, info))
        order = a.argsort(descending=True)[: args.worst]
        ref_c = canonical_directions(reference).flatten(1)
        best = (canonical_directions(world[order]).flatten(1) @ ref_c.T).argmax(1)
        worst.append(
            (label, canonical_poses(world[order], s1_bones[0]), canonical_poses(reference[best], s1_bones[0]), a[order])
        )

    table = [{"source": label, **summary(a, threshold), **info} for label, a, info in rows]
    md = [
        f"# {args.stem}: nearest-real-pose angle (deg) to S1 world poses (every 5th frame, {len(reference)} poses)",
        "",
        "| source | poses | mean | median | p90 | p99 | % beyond unseen p99 | accel (mm/frame²) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        acc = f"{r['accel_mm_per_frame2']:.1f}" if "accel_mm_per_frame2" in r else ""
        md.append(
            f"| {r['source']} | {r['poses']} | {r['mean_deg']:.1f} | {r['median_deg']:.1f} | {r['p90_deg']:.1f} | "
            f"{r['p99_deg']:.1f} | {r['beyond_unseen_p99_pct']:.1f} | {acc} |"
        )
    md += [
        "",
        f"Mean angle between corresponding bones of each pose and its nearest S1 pose, heading and bone "
        f"lengths removed (`dhaug.augment.realism`). 'Unseen p99' = {threshold:.1f}°, the 99th percentile of "
        f"real S5-S8 poses. Generators: {args.sequences} noise vectors, seed {args.seed}, S1 bone lengths "
        "and cameras (video: every frame of each window). Pictures: "
        f"`{args.stem}.png`, `{args.stem}_worst.png`.",
        "",
        f"Machine: {machine()}",
        "",
    ]
    plot([(label, a) for label, a, _ in rows], RESULTS / f"{args.stem}.png")
    plot_worst(worst, RESULTS / f"{args.stem}_worst.png", args.worst)
    write(
        args.stem,
        {"reference_poses": len(reference), "unseen_p99_deg": threshold, "rows": table, "machine": machine()},
        "\n".join(md),
    )


if __name__ == "__main__":
    main()
