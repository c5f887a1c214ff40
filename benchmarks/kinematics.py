"""Kinematics benchmark: FK throughput (vectorised vs the 4x4 reference, same run), IK throughput,
IK->FK coverage of every Human3.6M frame for both body models, and data-driven angle limits.

Run from the repository root:  python benchmarks/kinematics.py [--skip-coverage] [--write-table]

``--write-table`` also writes the data-driven limit table shipped in
``dhaug/kinematics/limits_h36m_train.json`` (0.5-99.5 percentiles over S1, S5, S6, S7, S8).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from common import RESULTS, SHARED, machine, require, write

from dhaug.data.h36m import load_positions_3d
from dhaug.kinematics import CLAVICLE, PAPER, forward_kinematics, inverse_kinematics, paper_table
from dhaug.kinematics.data_limits import H36M_TABLE, angle_statistics, limits_from_statistics
from dhaug.kinematics.reference import reference_fk
from dhaug.plots import plot_dof_histograms
from dhaug.skeleton import H36M16

TRAIN = ["S1", "S5", "S6", "S7", "S8"]


def time_call(fn, min_seconds=1.5, max_iters=1000, sync=lambda: None):
    """Median seconds per call over repeated calls (the machine is shared and noisy)."""
    fn()
    sync()
    times, t_start = [], time.perf_counter()
    while len(times) < max_iters and (time.perf_counter() - t_start < min_seconds or len(times) < 3):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def fk_throughput(device: torch.device, batches=(1, 1_000, 65_536, 1_048_576)) -> list[dict]:
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    rows = []
    lo, hi = paper_table("gan").for_model(PAPER)
    for n in batches:
        g = torch.Generator().manual_seed(0)
        v = (lo + (hi - lo) * torch.rand(n, len(lo), generator=g)).to(device)
        dofs, rot = v[:, : PAPER.num_dofs], v[:, PAPER.num_dofs :]
        bones = (0.25 + 0.1 * torch.rand(n, 15, generator=g)).to(device)
        root = torch.randn(n, 3, generator=g).to(device)
        with torch.no_grad():
            t_fast = time_call(lambda: forward_kinematics(PAPER, dofs, bones, rot, root), sync=sync)
            t_ref = time_call(
                lambda: reference_fk(PAPER, dofs, bones, rot, root), sync=sync, max_iters=3 if n >= 1_000_000 else 1000
            )
        rows.append(
            {
                "device": str(device),
                "batch": n,
                "fk_poses_per_s": n / t_fast,
                "reference_poses_per_s": n / t_ref,
                "speedup": t_ref / t_fast,
            }
        )
        print(rows[-1])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-coverage", action="store_true")
    ap.add_argument("--write-table", action="store_true")
    a = ap.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    fk_rows = [r for d in devices for r in fk_throughput(d)]
    md = [
        "# Kinematics benchmark",
        "",
        "## FK throughput (paper model, float32, random GAN-range parameters)",
        "",
        "| device | batch | vectorised FK (poses/s) | 4x4 reference (poses/s) | speed-up |",
        "|---|---|---|---|---|",
    ]
    md += [
        f"| {r['device']} | {r['batch']:,} | {r['fk_poses_per_s']:,.0f} | {r['reference_poses_per_s']:,.0f} | "
        f"{r['speedup']:.1f}x |"
        for r in fk_rows
    ]
    payload = {"machine": machine(), "fk": fk_rows}

    if not a.skip_coverage:
        pos = load_positions_3d(require(SHARED / "h36m" / "data_3d_h36m.npz"))
        md += ["", "## IK -> FK coverage over every Human3.6M frame (all subjects)", ""]
        cover, ik_speed, stats = {}, {}, {}
        for model in (PAPER, CLAVICLE):
            res_sum, res_max, frames, train_dofs, train_rot = np.zeros(16), np.zeros(16), 0, [], []
            t_ik = 0.0
            for s, acts in pos.items():
                P = torch.as_tensor(np.concatenate(list(acts.values())), dtype=torch.float64)
                t0 = time.perf_counter()
                r = inverse_kinematics(model, P)
                t_ik += time.perf_counter() - t0
                err = (forward_kinematics(model, r.dofs, r.bones, r.rotation, r.root) - P).norm(dim=-1).numpy() * 1000
                res_sum += err.sum(0)
                res_max = np.maximum(res_max, err.max(0))
                frames += len(P)
                if s in TRAIN:
                    train_dofs.append(r.dofs)
                    train_rot.append(r.rotation)
            cover[model.name] = {"mean_mm": (res_sum / frames).tolist(), "max_mm": res_max.tolist(), "frames": frames}
            ik_speed[model.name] = frames / t_ik
            dofs, rot = torch.cat(train_dofs), torch.cat(train_rot)
            stats[model.name] = angle_statistics(model, dofs, rot)
            table = limits_from_statistics(stats[model.name], f"h36m-{model.name}")
            plot_dof_histograms(
                model,
                dofs,
                rot,
                RESULTS / f"kinematics_dof_histograms_{model.name}.png",
                title=f"IK angles over S1,S5,S6,S7,S8 ({model.name} model; deg). red: paper GAN range, "
                "green: paper 'normal' range, blue dashed: data 0.5-99.5 %",
                data_table=table,
            )
        md += [
            f"Residual |FK(IK(pose)) - pose| per joint, mm (mean / max over {cover['paper']['frames']:,} frames).",
            "",
            "| joint | paper mean | paper max | clavicle mean | clavicle max |",
            "|---|---|---|---|---|",
        ]
        for j, name in enumerate(H36M16.joint_names):
            md.append(
                f"| {name} | {cover['paper']['mean_mm'][j]:.2f} | {cover['paper']['max_mm'][j]:.2f} | "
                f"{cover['clavicle']['mean_mm'][j]:.4f} | {cover['clavicle']['max_mm'][j]:.4f} |"
            )
        md += [
            "",
            "IK throughput (float64, CPU, whole subjects per call): "
            + ", ".join(f"{k} {v:,.0f} poses/s" for k, v in ik_speed.items()),
            "",
            "## Data-driven angle ranges vs the paper (degrees; IK over S1,S5,S6,S7,S8, clavicle model)",
            "",
            "| DOF | data 0.5 % | data 99.5 % | data min | data max | paper GAN | paper normal |",
            "|---|---|---|---|---|---|---|",
        ]
        gan, normal = paper_table("gan").ranges, paper_table("normal").ranges
        for n, st in stats["clavicle"].items():
            md.append(
                f"| {n} | {st['p0.5']:.1f} | {st['p99.5']:.1f} | {st['min']:.1f} | {st['max']:.1f} | "
                f"{gan[n][0]:g}..{gan[n][1]:g} | {normal[n][0]:g}..{normal[n][1]:g} |"
            )
        md += [
            "",
            "Histograms: `kinematics_dof_histograms_paper.png`, `kinematics_dof_histograms_clavicle.png`.",
            "DOFs that IK always returns as 0 are the redundant twists resolved by the no-twist rule "
            "(see dhaug/kinematics/ik.py).",
        ]
        payload.update(coverage=cover, ik_poses_per_s=ik_speed, angle_stats=stats)
        if a.write_table:
            from pathlib import Path

            dst = Path(__file__).resolve().parents[1] / "dhaug" / "kinematics" / H36M_TABLE
            tables = {
                m: {k: [round(v["p0.5"], 2), round(v["p99.5"], 2)] for k, v in st.items()} for m, st in stats.items()
            }
            dst.write_text(json.dumps(tables, indent=1) + "\n")
            print(f"wrote {dst}")
    md += ["", f"Machine: {machine()}"]
    write("kinematics", payload, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
