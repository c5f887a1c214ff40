"""Data-driven angle limits: per-DOF statistics of IK angles over real poses, a :class:`LimitTable`
from percentiles, and histograms against the paper's hand-set ranges."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .body_model import BodyModel
from .limits import GLOBAL_ROTATIONS, LimitTable, paper_table

#: Where the table derived from the Human3.6M training subjects is shipped (degrees per DOF; summary
#: statistics only, written by ``benchmarks/kinematics.py``).
H36M_TABLE = "limits_h36m_train.json"


def angle_statistics(model: BodyModel, dofs: torch.Tensor, rotation: torch.Tensor,
                     percentiles=(0.5, 99.5)) -> dict[str, dict[str, float]]:
    """Per DOF (and rot_x/y/z): min, max, mean, std and the given percentiles, in degrees."""
    values = torch.rad2deg(torch.cat([dofs, rotation], -1)).reshape(-1, model.num_dofs + 3).double().numpy()
    out = {}
    for i, name in enumerate(model.dof_names + GLOBAL_ROTATIONS):
        v = values[:, i]
        lo, hi = np.percentile(v, percentiles)
        out[name] = {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()), "std": float(v.std()),
                     f"p{percentiles[0]:g}": float(lo), f"p{percentiles[1]:g}": float(hi)}
    return out


def limits_from_statistics(stats: dict[str, dict[str, float]], name: str, lo_key: str = "p0.5",
                           hi_key: str = "p99.5", margin_deg: float = 0.0) -> LimitTable:
    return LimitTable(name, {k: (v[lo_key] - margin_deg, v[hi_key] + margin_deg) for k, v in stats.items()})


def table_from_poses(model: BodyModel, world: torch.Tensor, margin_deg: float = 10.0,
                     clip_to: LimitTable | None = None, name: str = "data") -> LimitTable:
    """A limit table from real world-frame poses (N, 16, 3) (Z up): the 0.5-99.5 % range of each IK
    angle widened by ``margin_deg`` on both sides and cut to ``clip_to`` (default: the paper's GAN
    column, i.e. anatomical limits). Any range that spans more than 300 degrees (yaw) becomes
    the full circle."""
    from .ik import inverse_kinematics

    if world.ndim != 3 or world.shape[1:] != (16, 3):
        raise ValueError(f"poses must have shape (N, 16, 3), got {tuple(world.shape)}")
    ik = inverse_kinematics(model, world)
    stats = angle_statistics(model, ik.dofs.float(), ik.rotation.float())
    clip = (clip_to or paper_table("gan")).ranges
    ranges = {}
    for k, v in stats.items():
        lo, hi = v["p0.5"] - margin_deg, v["p99.5"] + margin_deg
        if hi - lo > 300:
            lo, hi = -180.0, 180.0
        c_lo, c_hi = clip[k]
        lo, hi = max(lo, c_lo), min(hi, c_hi)
        if lo >= hi:  # the data lie outside the clip range: keep the clip range's nearest edge region
            lo, hi = c_lo, c_hi
        ranges[k] = (float(lo), float(hi))
    return LimitTable(name, ranges)


def h36m_table(model_name: str = "clavicle") -> LimitTable:
    """The data-driven table shipped with the package (0.5-99.5 percentiles of IK angles over
    S1, S5, S6, S7, S8); rows missing for ``model_name`` fall back to nothing (KeyError at use)."""
    text = resources.files("dhaug.kinematics").joinpath(H36M_TABLE).read_text()
    tables = json.loads(text)
    if model_name not in tables:
        raise KeyError(f"no data-driven limit table for body model {model_name!r} (have {', '.join(tables)})")
    return LimitTable(f"h36m-{model_name}", {k: tuple(v) for k, v in tables[model_name].items()})


def plot_dof_histograms(model: BodyModel, dofs: torch.Tensor, rotation: torch.Tensor, path: str | Path,
                        title: str = "", data_table: LimitTable | None = None,
                        reference: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
    """One histogram per DOF with the paper's GAN (red) and normal (green) ranges and, if given, the
    data-driven range (blue dashed) and a reference distribution (``(dofs, rotation)``, e.g. the IK
    angles of real poses; orange outline, same area)."""
    from matplotlib.figure import Figure

    values = torch.rad2deg(torch.cat([dofs, rotation], -1)).reshape(-1, model.num_dofs + 3).numpy()
    ref = None
    if reference is not None:
        ref = torch.rad2deg(torch.cat(reference, -1)).reshape(-1, model.num_dofs + 3).numpy()
    names = model.dof_names + GLOBAL_ROTATIONS
    gan, normal = paper_table("gan").ranges, paper_table("normal").ranges
    cols = 6
    rows = (len(names) + cols - 1) // cols
    fig = Figure(figsize=(3.0 * cols, 2.2 * rows))
    for i, n in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.hist(values[:, i], bins=90, range=(-180, 180), color="0.5", density=True)
        if ref is not None:
            ax.hist(ref[:, i], bins=90, range=(-180, 180), histtype="step", color="tab:orange", density=True)
        for table, color, style in ((gan, "tab:red", "-"), (normal, "tab:green", "-")):
            for x in table[n]:
                ax.axvline(x, color=color, ls=style, lw=1)
        if data_table is not None and n in data_table.ranges:
            for x in data_table.ranges[n]:
                ax.axvline(x, color="tab:blue", ls="--", lw=1)
        ax.set_title(n, fontsize=8)
        ax.set_yticks([])
        ax.tick_params(labelsize=6)
    fig.suptitle(title or "IK angles (deg): red = paper GAN range, green = paper 'normal' range, blue = data 0.5-99.5 %")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
