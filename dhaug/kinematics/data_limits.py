"""Data-driven angle limits: per-DOF statistics of IK angles over real poses, a :class:`LimitTable`
from percentiles, and histograms against the paper's hand-set ranges."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import torch

from .body_model import BodyModel
from .ik import inverse_kinematics
from .limits import GLOBAL_ROTATIONS, LimitTable, paper_table

#: Where the table derived from the Human3.6M training subjects is shipped (degrees per DOF; summary
#: statistics only, written by ``benchmarks/kinematics.py``).
H36M_TABLE = "limits_h36m_train.json"


def angle_statistics(
    model: BodyModel, dofs: torch.Tensor, rotation: torch.Tensor, percentiles=(0.5, 99.5)
) -> dict[str, dict[str, float]]:
    """Per DOF (and rot_x/y/z): min, max, mean, std and the given percentiles, in degrees."""
    values = torch.rad2deg(torch.cat([dofs, rotation], -1)).reshape(-1, model.num_dofs + 3).double().numpy()
    out = {}
    for i, name in enumerate(model.dof_names + GLOBAL_ROTATIONS):
        v = values[:, i]
        lo, hi = np.percentile(v, percentiles)
        out[name] = {
            "min": float(v.min()),
            "max": float(v.max()),
            "mean": float(v.mean()),
            "std": float(v.std()),
            f"p{percentiles[0]:g}": float(lo),
            f"p{percentiles[1]:g}": float(hi),
        }
    return out


def limits_from_statistics(
    stats: dict[str, dict[str, float]], name: str, lo_key: str = "p0.5", hi_key: str = "p99.5", margin_deg: float = 0.0
) -> LimitTable:
    return LimitTable(name, {k: (v[lo_key] - margin_deg, v[hi_key] + margin_deg) for k, v in stats.items()})


def table_from_poses(
    model: BodyModel,
    world: torch.Tensor,
    margin_deg: float = 10.0,
    clip_to: LimitTable | None = None,
    name: str = "data",
) -> LimitTable:
    """A limit table from real world-frame poses (N, 16, 3) (Z up): the 0.5-99.5 % range of each IK
    angle widened by ``margin_deg`` on both sides and cut to ``clip_to`` (default: the paper's GAN
    column, i.e. anatomical limits). Any range that spans more than 300 degrees (yaw) becomes
    the full circle."""

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


def limit_table(name: str, body_model: str = "paper") -> LimitTable:
    """A table by name: ``gan``, ``normal`` (the paper's columns) or ``h36m`` (data-driven, per body model)."""
    return h36m_table(body_model) if name == "h36m" else paper_table(name)
