"""BVH export read back by an independent reader (bvhio): CMU test clips (real motion, other people) and
random DH sequences (motion the body model can make). Per source: the IK residual (joints of the BVH
motion vs the input: IK plus the bone lengths fixed to their median), and bvhio's world positions vs the
motion we meant to write. A picture of the rest pose and of read-back frames over the input; a Blender
import (frame count) when ``blender`` is on the PATH.

    python benchmarks/bvh_roundtrip.py [--clips 46] [--read-frames 60]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import bvhio
import numpy as np
import torch
from common import RESULTS, SHARED, machine, require, write
from matplotlib.figure import Figure

from dhaug.bvh_export import read_motion
from dhaug.generate import random_source
from dhaug.kinematics import get_body_model
from dhaug.kinematics.bvh import TO_BVH, motion_to_bvh
from dhaug.kinematics.fk import forward_kinematics
from dhaug.kinematics.ik import inverse_kinematics
from dhaug.plots import _equal_3d, draw_skeleton_3d, side_key
from dhaug.skeleton import H36M16


def read_back(path: Path, frames: int) -> np.ndarray:
    """(frames, 16, 3) metres, model axes, through bvhio."""
    root = bvhio.readAsHierarchy(str(path))
    out = np.zeros((frames, 16, 3))
    for f in range(frames):
        root.loadPose(f)
        for joint, _, _ in root.layout():
            if joint.Name in H36M16.joint_names:
                out[f, H36M16.joint_names.index(joint.Name)] = np.array(joint.PositionWorld)
    return (out / 100.0) @ TO_BVH


def blender_frames(path: Path) -> int | None:
    exe = shutil.which("blender")
    if not exe:
        return None
    expr = (
        f"import bpy; bpy.ops.import_anim.bvh(filepath={str(path)!r}); "
        "a = bpy.context.object.animation_data.action; print('FRAMES', int(a.frame_range[1] - a.frame_range[0] + 1))"
    )
    out = subprocess.run(
        [exe, "-b", "--factory-startup", "--python-expr", expr], capture_output=True, text=True, timeout=300
    ).stdout
    return next((int(line.split()[1]) for line in out.splitlines() if line.startswith("FRAMES")), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--clips", type=int, default=46, help="the first N sequences of cmu_test.npz to export (184 in all)"
    )
    ap.add_argument("--read-frames", type=int, default=60, help="frames per file read back through bvhio")
    ap.add_argument("--body-model", default="clavicle")
    args = ap.parse_args()
    cmu = require(SHARED / "cmu" / "cmu_test.npz")
    seqs = np.unique(np.load(cmu)["seq"])[: args.clips]
    rows, pictures = [], {}
    tmp = Path(tempfile.mkdtemp(prefix="bvh_roundtrip_"))
    sources = [(f"cmu seq {int(s)}", lambda s=s: read_motion(cmu, str(int(s)))) for s in seqs]
    rand = random_source(args.body_model, "normal", frames=64)
    sources += [(f"random DH sequence {k}", lambda k=k: rand.block(0, k).world[0].double().numpy()) for k in range(4)]
    t0 = time.time()
    for name, get in sources:
        m = get()
        pose, fps = (m.pose, m.fps or 30.0) if hasattr(m, "pose") else (m, 50.0)
        bvh = motion_to_bvh(pose, fps, body_model=args.body_model)
        path = tmp / "m.bvh"
        path.write_text(bvh.text)
        n = min(args.read_frames, len(pose))
        back = read_back(path, n)
        model = get_body_model(args.body_model)
        ik = inverse_kinematics(model, torch.from_numpy(pose))
        exact = forward_kinematics(model, ik.dofs, ik.bones, ik.rotation, ik.root).numpy()  # per-frame bones
        fixed = ik.bones.median(0).values.expand(len(pose), 15)  # what the BVH holds: the median bones
        target = forward_kinematics(model, ik.dofs, fixed, ik.rotation, ik.root).numpy()[:n]
        rows.append(
            {
                "source": name,
                "frames": len(pose),
                "fps": fps,
                "ik_alone_mm_max": float(np.linalg.norm(exact - pose, axis=-1).max() * 1000),
                "bone_range_mm_max": float((ik.bones.max(0).values - ik.bones.min(0).values).max() * 1000),
                "residual_mm_mean": float(bvh.residual_mm.mean()),
                "residual_mm_p95": float(np.percentile(bvh.residual_mm, 95)),
                "residual_mm_max": float(bvh.residual_mm.max()),
                "readback_vs_meant_mm_max": float(np.linalg.norm(back - target, axis=-1).max() * 1000),
                "readback_vs_input_mm_mean": float(np.linalg.norm(back - pose[:n], axis=-1).mean() * 1000),
            }
        )
        if name in ("cmu seq 0", "random DH sequence 0"):
            pictures[name] = (pose[:n], back)
            blender = blender_frames(path) if name == "cmu seq 0" else None
            if blender is not None:
                rows[-1]["blender_frames"] = blender
    seconds = time.time() - t0
    draw(pictures, args.body_model, RESULTS / "bvh_roundtrip.png")

    def agg(sel, key, fn):
        return fn([r[key] for r in rows if sel(r)])

    groups = {
        "CMU sequences": lambda r: r["source"].startswith("cmu"),
        "random DH sequences": lambda r: r["source"].startswith("random"),
    }
    md = [
        "# BVH export read back by bvhio (an independent reader)",
        "",
        f"`python benchmarks/bvh_roundtrip.py --clips {args.clips} --read-frames {args.read_frames}`; body model "
        f"`{args.body_model}`; {seconds:.0f} s. *residual*: joints of the BVH motion vs the input (IK residual plus "
        "bone lengths fixed to their median; frames weighted equally within a clip); *read back*: bvhio's world "
        f"joint positions (first {args.read_frames} frames of each file) vs the FK of the written angles.",
        "",
        "*IK alone*: the IK with every frame's own bone lengths; *bone range*: the largest change of one bone's",
        "length within a clip (the input's, e.g. CMU's derived spine joint) — what fixing the bones costs.",
        "",
        "| source | files | frames | residual mean (mm) | residual p95 (mm) | residual max (mm) | IK alone, max (mm) "
        "| bone range, max (mm) | read back vs meant, max (mm) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g, sel in groups.items():
        md.append(
            f"| {g} | {agg(sel, 'frames', len)} | {agg(sel, 'frames', sum)} | "
            f"{agg(sel, 'residual_mm_mean', np.mean):.2f} | {agg(sel, 'residual_mm_p95', np.max):.2f} | "
            f"{agg(sel, 'residual_mm_max', np.max):.2f} | {agg(sel, 'ik_alone_mm_max', np.max):.4f} | "
            f"{agg(sel, 'bone_range_mm_max', np.max):.1f} | {agg(sel, 'readback_vs_meant_mm_max', np.max):.4f} |"
        )
    b = next((r.get("blender_frames") for r in rows if "blender_frames" in r), None)
    md += [
        "",
        f"Blender import: {'%d frames (file has %d)' % (b, rows[0]['frames']) if b else 'not run (no blender on this machine)'}.",
        "",
        "![rest pose and read-back frames](bvh_roundtrip.png)",
        "",
    ]
    write("bvh_roundtrip", {"machine": machine(), "args": vars(args), "seconds": seconds, "rows": rows}, "\n".join(md))


def draw(pictures: dict, body_model: str, path: Path) -> None:
    """Rest pose (all channels 0), then frames of each source: input dashed, bvhio's read-back solid."""
    model = get_body_model(body_model)
    bones = torch.tensor(
        [0.13, 0.44, 0.44, 0.13, 0.44, 0.44, 0.24, 0.25, 0.2, 0.15, 0.28, 0.25, 0.15, 0.28, 0.25], dtype=torch.float64
    )
    rest = forward_kinematics(model, torch.zeros(model.num_dofs, dtype=torch.float64), bones).numpy()
    panels = [("rest pose (all channels 0)", rest, None)]
    for name, (pose, back) in pictures.items():
        for t in np.linspace(0, len(pose) - 1, 3).round().astype(int):
            panels.append((f"{name}, frame {t}", back[t] - pose[t, :1], pose[t] - pose[t, :1]))
    cols = 4
    rows = (len(panels) + cols - 1) // cols
    fig = Figure(figsize=(3.4 * cols, 3.6 * rows + 0.4))
    for i, (title, solid, dashed) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        if dashed is not None:
            draw_skeleton_3d(ax, dashed, camera_frame=False, style="--", alpha=0.5)
        draw_skeleton_3d(ax, solid, camera_frame=False)
        _equal_3d(ax, solid if dashed is None else np.concatenate([solid, dashed]))
        ax.view_init(elev=12, azim=-60)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        ax.set_title(title, fontsize=8)
    fig.suptitle("BVH export: read back by bvhio (solid) over the input (dashed); Z up", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    side_key(fig)
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
