"""A small built-in SYNTHETIC motion dataset for ``dhaug demo`` (offline, no downloads).

Everything here is procedural: bodies with human proportions, motions driven by smooth joint-angle
curves through a small forward kinematics, and static calibrated cameras. No real person, no
recorded motion. It stands in for Human3.6M with the same data structures:

* :func:`make_synthetic_mocap` -> :class:`SyntheticMocap`: ``positions[subject][action]`` is a
  ``(T, 16, 3)`` float32 array of world joint positions in metres (Z up, floor at z = 0) in the
  :data:`dhaug.skeleton.H36M16` order, and ``cameras[subject]`` holds four static
  :class:`dhaug.camera.Camera` objects placed like the Human3.6M rig.
* :func:`make_synthetic_cross_set` -> a dict in the format of the CMU cross-dataset test file
  (``cmu_test.npz``): different body proportions, viewpoints, intrinsics and motion styles.
* :func:`dhaug.plots.render_synthetic_preview` draws a few frames of each action to a PNG.

Modules: ``body`` (proportions, rotations, the data's own FK), ``motions`` (the actions), ``cameras``
(the rigs), ``cmu_format`` (the cross-dataset set), ``common`` (note, container, random streams).

Body model. Local body frames use x = forward, y = left, z = up. The pelvis orientation is
``Rz(yaw) Ry(pitch) Rx(roll)``; the hips lie on the pelvis y axis (pelvis = hip midpoint). A limb
(left side) rotates by ``Rx(abduction) Ry(-flexion) Rz(twist)`` relative to its parent frame,
knees by ``Ry(+knee)`` (shank swings backwards: knees bend forward) and elbows by ``Ry(-elbow)``
(forearm swings to the front of the arm frame); right limbs use the mirror image ``M R M`` with
``M = diag(1, -1, 1)`` so the same angles mean the same anatomical motion on both sides. Knee and
elbow angles are soft-clipped to [0, 150] degrees, so they never hyper-extend.

Everything is deterministic for a given seed (``numpy.random.default_rng``, no global state); each
subject, action and camera draws from its own stream, so a subject's data does not depend on which
other subjects are requested.
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


def make_synthetic_mocap(seed: int = 0, subjects=("S1", "S5", "S6", "S7", "S8", "S9", "S11"),
                         frames_per_action: int = 300, fps: float = 50.0) -> SyntheticMocap:
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
    return SyntheticMocap(positions=positions, cameras=cameras, note=SYNTHETIC_NOTE, fps=float(fps),
                          bone_lengths=bones)


# world (Z up, metres) -> CMU-like world (Y up, millimetres): (x, y, z) -> (x, z, -y)
