"""A small built-in SYNTHETIC motion dataset for ``dhaug demo`` (offline, no downloads): procedural bodies,
motions and static calibrated cameras standing in for Human3.6M with the same data structures.

* :func:`make_synthetic_mocap` -> :class:`SyntheticMocap`: ``positions[subject][action]`` (T, 16, 3) float32
  world metres (Z up, floor at z = 0), :data:`dhaug.skeleton.H36M16` order; ``cameras[subject]``: 4 cameras;
* :func:`make_synthetic_cross_set` -> a dict in the ``cmu_test.npz`` cross-dataset format.

Deterministic for a given seed. Modules, body model (local frames: x forward, y left, z up), seeding:
docs/data.md#synthetic-demo-data
"""

from __future__ import annotations

import numpy as np

from .body import _draw_body
from .cameras import _draw_h36m_cameras
from .cmu_format import make_synthetic_cross_set
from .common import SYNTHETIC_NOTE, SyntheticMocap, _stream
from .motions import SYNTHETIC_ACTIONS, _make_sequence

__all__ = [
    "SYNTHETIC_NOTE",
    "SYNTHETIC_ACTIONS",
    "SyntheticMocap",
    "make_synthetic_mocap",
    "make_synthetic_cross_set",
]


def make_synthetic_mocap(
    seed: int = 0, subjects=("S1", "S5", "S6", "S7", "S8", "S9", "S11"), frames_per_action: int = 300, fps: float = 50.0
) -> SyntheticMocap:
    """Procedural Human3.6M stand-in: every subject performs every action of :data:`SYNTHETIC_ACTIONS`.

    Args:
        seed: master seed; the same seed gives identical data.
        subjects: subject names (any strings; each gets its own body, style and cameras).
        frames_per_action: frames T of each (subject, action) sequence.
        fps: frame rate of the motions.
    Returns:
        :class:`SyntheticMocap` with ``positions[subject][action]`` (T, 16, 3) float32 world metres,
        Z up, floor at z = 0, and four cameras per subject that see every joint of every frame.
    """
    if frames_per_action < 2:
        raise ValueError(f"frames_per_action must be >= 2, got {frames_per_action}")
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    positions, cameras, bones = {}, {}, {}
    for subject in subjects:
        body = _draw_body(_stream(seed, "body", subject))
        seqs = {}
        for action in SYNTHETIC_ACTIONS:
            rng = _stream(seed, "motion", subject, action)
            amp, speed = rng.uniform(0.85, 1.15), rng.uniform(0.85, 1.15)
            seqs[action] = _make_sequence(action, body, rng, frames_per_action, fps, amp, speed)
        pts = np.concatenate([s.reshape(-1, 3) for s in seqs.values()])
        cameras[subject] = _draw_h36m_cameras(_stream(seed, "cameras", subject), pts)
        positions[subject] = {a: s.astype(np.float32) for a, s in seqs.items()}
        bones[subject] = dict(body)
    return SyntheticMocap(positions=positions, cameras=cameras, note=SYNTHETIC_NOTE, fps=float(fps), bone_lengths=bones)


# world (Z up, metres) -> CMU-like world (Y up, millimetres): (x, y, z) -> (x, z, -y)
