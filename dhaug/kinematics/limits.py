"""Angle-limit tables (degrees), one row per named DOF, with the paper's two columns (method.md §2):
``gan`` — the intended GAN ranges of the paper/poster (arms mapped by name, not off by one) — and
``normal`` — the ranges of the non-GAN random mode. Global rotations are rows ``rot_x/y/z``.
Data-driven tables (from IK over real poses) use the same :class:`LimitTable` type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .body_model import BodyModel

Range = tuple[float, float]

# fmt: off  (tables: one joint group per line)
_SPINE = (
    "pelvis_0",
    "pelvis_1",
    "pelvis_2",
    "spine_0",
    "spine_1",
    "spine_2",
    "thorax_0",
    "thorax_1",
    "thorax_2",
    "neck_0",
    "neck_1",
    "neck_2",
)
_SPINE_NORMAL = (
    (-25, 25),
    (-10, 90),
    (-20, 20),
    (-20, 20),
    (-10, 45),
    (-25, 25),
    (-20, 20),
    (0, 0),
    (-20, 20),
    (-90, 90),
    (-20, 90),
    (-45, 45),
)

#: name -> (gan range, normal range)
PAPER_LIMITS: dict[str, tuple[Range, Range]] = {
    "r_hip_0": ((-110, 65), (-90, 45)),
    "r_hip_1": ((-110, 65), (-90, 45)),
    "r_hip_2": ((-110, 180), (-45, 120)),
    "l_hip_0": ((-65, 110), (-45, 90)),
    "l_hip_1": ((-65, 110), (-45, 90)),
    "l_hip_2": ((-110, 180), (-45, 120)),
    "r_knee": ((-180, 0), (-135, 0)),
    "l_knee": ((-180, 0), (-135, 0)),
    **{n: ((-180, 180), r) for n, r in zip(_SPINE, _SPINE_NORMAL)},
    "r_shoulder_0": ((-155, 65), (-135, 45)),
    "r_shoulder_1": ((-155, 65), (-135, 45)),
    "r_shoulder_2": ((-100, 180), (-45, 180)),
    "r_elbow": ((0, 180), (0, 135)),
    "l_shoulder_0": ((-65, 155), (-45, 135)),
    "l_shoulder_1": ((-65, 155), (-45, 135)),
    "l_shoulder_2": ((-100, 180), (-45, 180)),
    "l_elbow": ((0, 180), (0, 135)),
    "rot_x": ((-180, 180), (-20, 20)),
    "rot_y": ((-180, 180), (-20, 20)),
    "rot_z": ((-180, 180), (-180, 180)),
}

#: The clavicle variant's extra DOFs are not in the paper. These ranges are ours, set to cover
#: what IK finds on Human3.6M (see ``benchmarks/results/kinematics_*``).
CLAVICLE_LIMITS: dict[str, tuple[Range, Range]] = {
    f"{s}_clavicle_{k}": ((-30, 30), (-15, 15)) for s in ("r", "l") for k in ("up", "fwd")
}

# fmt: on
GLOBAL_ROTATIONS = ("rot_x", "rot_y", "rot_z")


@dataclass(frozen=True)
class LimitTable:
    """Per-DOF ranges in degrees (``lo <= offset <= hi``)."""

    name: str
    ranges: dict[str, Range] = field(default_factory=dict)

    def for_model(self, model: BodyModel, dtype=torch.float32, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(lo, hi) tensors in **radians** for ``model.dof_names`` followed by ``rot_x, rot_y, rot_z``."""
        names = model.dof_names + GLOBAL_ROTATIONS
        missing = [n for n in names if n not in self.ranges]
        if missing:
            raise KeyError(f"limit table {self.name!r} has no range for {', '.join(missing)}")
        lo = torch.tensor([self.ranges[n][0] for n in names], dtype=dtype, device=device)
        hi = torch.tensor([self.ranges[n][1] for n in names], dtype=dtype, device=device)
        return torch.deg2rad(lo), torch.deg2rad(hi)


def paper_table(column: str) -> LimitTable:
    """``gan`` (intended GAN ranges) or ``normal`` (random-mode ranges), clavicle rows included.
    The data-driven alternative is :func:`~dhaug.kinematics.data_limits.h36m_table`."""
    if column not in ("gan", "normal"):
        raise ValueError(f"limit column must be 'gan' or 'normal', got {column!r}")
    col = 0 if column == "gan" else 1
    rows = {**PAPER_LIMITS, **CLAVICLE_LIMITS}
    return LimitTable(column, {n: (float(r[col][0]), float(r[col][1])) for n, r in rows.items()})
