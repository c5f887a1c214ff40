"""The synthetic bodies: proportions, rotations and the demo data's own small forward kinematics.

Demo data must not come from the model under test, so this FK is independent of
:mod:`dhaug.kinematics` (other angle conventions, no DH chains); its conventions: docs/data.md#body-model.
"""

from __future__ import annotations

import numpy as np

from dhaug.skeleton import H36M16

# joint indices (H36M16 order)
_P, _RH, _RK, _RA, _LH, _LK, _LA, _SP, _TH, _HD, _LS, _LE, _LW, _RS, _RE, _RW = range(16)
assert H36M16.parents == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 8, 10, 11, 8, 13, 14)

# typical Human3.6M bone lengths, metres
_BONES = {
    "hip": 0.133,
    "thigh": 0.443,
    "shin": 0.454,
    "spine": 0.234,
    "thorax": 0.257,
    "head": 0.182,
    "shoulder": 0.151,
    "upper_arm": 0.279,
    "forearm": 0.252,
}
# proportions of the cross-dataset bodies relative to the training ones
_CROSS_PROPORTIONS = {
    "hip": 0.70,
    "thigh": 0.88,
    "shin": 0.88,
    "spine": 1.04,
    "thorax": 1.04,
    "head": 1.05,
    "shoulder": 1.25,
    "upper_arm": 1.0,
    "forearm": 1.15,
}
_ANKLE_HEIGHT = 0.055  # ankle joint above the floor when the foot is flat (H36M: ~5 cm), metres
_CLEARANCE = 0.03  # every other joint stays at least this far above the floor


# rotations (vectorised over frames, angles in radians)


def _rx(a):
    a = np.asarray(a, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _ry(a):
    a = np.asarray(a, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rz(a):
    a = np.asarray(a, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


_MIRROR_SIGNS = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, 1.0]])


def _limb_rotation(flex, abd, twist, right: bool):
    """Rotation of a limb segment relative to its parent frame (angles in radians)."""
    r = _rx(abd) @ _ry(-flex) @ _rz(twist)
    return r * _MIRROR_SIGNS if right else r


def _apply(R, v):
    """(T,3,3) @ (3,) or (T,3) -> (T,3)."""
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 1:
        return R @ v
    return np.einsum("tij,tj->ti", R, v)


def _soft_clip(x, lo, hi, s=4.0):
    """Smoothly keep x inside [lo, hi] (degrees); ~identity more than a few s away from the limits."""
    y = lo + s * np.logaddexp(0.0, (x - lo) / s)
    return hi - s * np.logaddexp(0.0, (hi - y) / s)


# bodies and forward kinematics


def _draw_body(rng: np.random.Generator, proportions: dict[str, float] | None = None) -> dict[str, float]:
    """Bone lengths: typical H36M lengths x a global scale x per-bone factors (within ~±8 %)."""
    glob = float(np.clip(rng.normal(1.0, 0.03), 0.95, 1.05))
    body = {}
    for name, length in _BONES.items():
        per = float(np.clip(rng.normal(1.0, 0.02), 0.97, 1.03))
        prop = 1.0 if proportions is None else proportions[name]
        body[name] = length * glob * per * prop
    return body


_ANGLE_NAMES = (
    "yaw",
    "pitch",
    "roll",
    "spine_flex",
    "spine_lat",
    "spine_twist",
    "neck_flex",
    "neck_twist",
    *(
        f"{s}_{n}"
        for s in "lr"
        for n in ("hip_flex", "hip_abd", "hip_twist", "knee", "sh_flex", "sh_abd", "sh_twist", "elbow")
    ),
)


def _forward_kinematics(body: dict[str, float], ang: dict[str, np.ndarray], T: int) -> np.ndarray:
    """Joint positions (T, 16, 3) relative to the pelvis (pelvis at the origin), metres.

    ``ang`` maps names of :data:`_ANGLE_NAMES` to degrees, (T,) arrays or scalars (missing = 0).
    """
    unknown = set(ang) - set(_ANGLE_NAMES)
    assert not unknown, unknown

    def g(name, lo=None, hi=None):
        a = np.broadcast_to(np.asarray(ang.get(name, 0.0), dtype=np.float64), (T,))
        if lo is not None:
            a = _soft_clip(a, lo, hi)
        return np.deg2rad(a)

    pos = np.zeros((T, 16, 3))
    Rp = _rz(g("yaw")) @ _ry(g("pitch")) @ _rx(g("roll"))
    pos[:, _LH] = _apply(Rp, [0.0, body["hip"], 0.0])
    pos[:, _RH] = _apply(Rp, [0.0, -body["hip"], 0.0])
    for side, (H, K, A) in (("l", (_LH, _LK, _LA)), ("r", (_RH, _RK, _RA))):
        right = side == "r"
        Rh = Rp @ _limb_rotation(
            g(f"{side}_hip_flex", -35, 125), g(f"{side}_hip_abd", -20, 50), g(f"{side}_hip_twist", -30, 30), right
        )
        pos[:, K] = pos[:, H] + _apply(Rh, [0.0, 0.0, -body["thigh"]])
        Rk = Rh @ _ry(g(f"{side}_knee", 0, 150))
        pos[:, A] = pos[:, K] + _apply(Rk, [0.0, 0.0, -body["shin"]])

    sflex, slat, stw = g("spine_flex", -30, 110), g("spine_lat", -40, 40), g("spine_twist", -60, 60)
    Rs1 = Rp @ _ry(0.5 * sflex) @ _rx(0.5 * slat) @ _rz(0.5 * stw)
    lumbar = np.array([-0.06, 0.0, 1.0]) / np.hypot(0.06, 1.0)  # spine joint slightly behind the pelvis
    pos[:, _SP] = _apply(Rs1, lumbar * body["spine"])
    Rs2 = Rs1 @ _ry(0.5 * sflex) @ _rx(0.5 * slat) @ _rz(0.5 * stw)
    pos[:, _TH] = pos[:, _SP] + _apply(Rs2, [0.0, 0.0, body["thorax"]])
    Rn = Rs2 @ _ry(g("neck_flex", -50, 60)) @ _rz(g("neck_twist", -70, 70))
    head_dir = np.array([0.15, 0.0, 1.0]) / np.hypot(0.15, 1.0)  # head slightly forward
    pos[:, _HD] = pos[:, _TH] + _apply(Rn, head_dir * body["head"])

    for side, (S, E, W) in (("l", (_LS, _LE, _LW)), ("r", (_RS, _RE, _RW))):
        right = side == "r"
        sdir = np.array([-0.11, -0.9 if right else 0.9, -0.39])  # ~6 cm below the thorax joint
        pos[:, S] = pos[:, _TH] + _apply(Rs2, sdir / np.linalg.norm(sdir) * body["shoulder"])
        Ra = Rs2 @ _limb_rotation(
            g(f"{side}_sh_flex", -60, 175), g(f"{side}_sh_abd", -15, 178), g(f"{side}_sh_twist", -80, 95), right
        )
        pos[:, E] = pos[:, S] + _apply(Ra, [0.0, 0.0, -body["upper_arm"]])
        Re = Ra @ _ry(-g(f"{side}_elbow", 0, 150))
        pos[:, W] = pos[:, E] + _apply(Re, [0.0, 0.0, -body["forearm"]])
    return pos
