"""The synthetic "other dataset" in the ``cmu_test.npz`` format: other proportions, viewpoints,
intrinsics and motion styles."""

from __future__ import annotations

import json

import numpy as np

from dhaug.skeleton import H36M16

from .body import _CROSS_PROPORTIONS, _draw_body
from .cameras import _ZUP_TO_YUP, _draw_cross_camera
from .common import SYNTHETIC_NOTE, _stream
from .motions import SYNTHETIC_ACTIONS, _make_sequence

#: Joint names of the CMU cross-dataset file (same order as H36M16).
_CMU_JOINT_NAMES = (
    "Hip",
    "RHip",
    "RKnee",
    "RFoot",
    "LHip",
    "LKnee",
    "LFoot",
    "Spine",
    "Thorax",
    "Head",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RShoulder",
    "RElbow",
    "RWrist",
)


def make_synthetic_cross_set(
    seed: int = 1, num_clips: int = 8, frames_per_clip: int = 240, fps: float = 25.0, cameras_per_clip: int = 2
) -> dict[str, np.ndarray]:
    """A held-out 'other dataset' in the format of the CMU cross-dataset file ``cmu_test.npz``.

    Bodies have other proportions than :func:`make_synthetic_mocap` subjects (legs -12 %, forearms
    +15 %, shoulders +25 % wider, hips 30 % narrower), motions other amplitudes/speeds, and cameras
    other viewpoints (height 0.5-2.5 m, distance 3.5-7 m, any azimuth, focal 1000-1600 px, images
    1000x1000 / 1920x1080 / 2048x2048, no distortion). Clip i performs action
    ``SYNTHETIC_ACTIONS[i % 8]``; each clip is seen by ``cameras_per_clip`` cameras, one sequence
    per (clip, camera). The world frame of ``cam_R``/``cam_t`` is Y up, millimetres, floor y = 0.

    Returns:
        dict with keys pose3d, pose2d_px, pose2d, res, cam_intrinsics, seq, frame, seq_names,
        joint_names, joint_parents, cam_R, cam_t, fps (see ``cmu/README.md``, "File format").
    """
    if num_clips < 1 or frames_per_clip < 2 or cameras_per_clip < 1:
        raise ValueError("num_clips, cameras_per_clip must be >= 1 and frames_per_clip >= 2")
    out = {k: [] for k in ("pose3d", "pose2d_px", "res", "cam_intrinsics", "seq", "frame")}
    seq_names, cam_R, cam_t = [], [], []
    seq_id = 0
    # camera heights stratified over 0.5-2.5 m so every set has low, H36M-like and high viewpoints
    n_seq = num_clips * cameras_per_clip
    strata = _stream(seed, "cross-heights").permutation(n_seq)
    height_edges = 0.5 + 2.0 * np.arange(n_seq + 1) / n_seq
    for clip in range(num_clips):
        action = SYNTHETIC_ACTIONS[clip % len(SYNTHETIC_ACTIONS)]
        rng = _stream(seed, "cross", clip)
        body = _draw_body(rng, _CROSS_PROPORTIONS)
        # other styles: clearly smaller or larger amplitudes, slower or faster
        amp = rng.uniform(0.7, 0.85) if rng.random() < 0.4 else rng.uniform(1.15, 1.35)
        speed = rng.uniform(0.7, 0.85) if rng.random() < 0.5 else rng.uniform(1.15, 1.4)
        world = _make_sequence(action, body, rng, frames_per_clip, fps, amp, speed)  # (T,16,3) m
        pts = world.reshape(-1, 3)
        target_xy = 0.5 * (pts[:, :2].min(0) + pts[:, :2].max(0))
        az0 = rng.uniform(0, 360)
        for k in range(cameras_per_clip):
            stratum = strata[seq_id]
            R, centre, f, c, (w, h), meta = _draw_cross_camera(
                rng,
                pts,
                target_xy,
                az0 + 360.0 * k / cameras_per_clip,
                (height_edges[stratum], height_edges[stratum + 1]),
            )
            Xc = (world - centre) @ R.T * 1000.0  # camera mm
            uv = Xc[..., :2] / Xc[..., 2:3] * f + c
            T = frames_per_clip
            out["pose3d"].append(Xc)
            out["pose2d_px"].append(uv)
            out["res"].append(np.tile([w, h], (T, 1)))
            out["cam_intrinsics"].append(np.tile([f[0], f[1], c[0], c[1]], (T, 1)))
            out["seq"].append(np.full(T, seq_id))
            out["frame"].append(np.arange(T))
            cam_R.append(R @ _ZUP_TO_YUP.T)
            cam_t.append(-1000.0 * R @ centre)
            seq_names.append(
                json.dumps(
                    {
                        "seq": seq_id,
                        "source": "synthetic",
                        "subject": f"synthetic_cross_{clip}",
                        "clip": f"synthetic/{action}/{action.lower()}_{clip}",
                        "action": action,
                        "camera": k,
                        "skeleton": "dhaug synthetic body (cross proportions)",
                        **meta,
                        "frames_kept": T,
                        "frames_total": T,
                        "frames_invalid_mocap": 0,
                        "n_gaps": 0,
                        "floor_y": 0.0,
                        "src": "dhaug.data.synthetic.make_synthetic_cross_set",
                        "note": SYNTHETIC_NOTE,
                    }
                )
            )
            seq_id += 1
    pose2d_px = np.concatenate(out["pose2d_px"]).astype(np.float32)
    res = np.concatenate(out["res"]).astype(np.float32)
    w, h = res[:, 0:1, None], res[:, 1:2, None]
    pose2d = pose2d_px / w * 2 - np.concatenate([np.ones_like(h), h / w], axis=-1)
    return {
        "pose3d": np.concatenate(out["pose3d"]).astype(np.float32),
        "pose2d_px": pose2d_px,
        "pose2d": pose2d.astype(np.float32),
        "res": res,
        "cam_intrinsics": np.concatenate(out["cam_intrinsics"]).astype(np.float32),
        "seq": np.concatenate(out["seq"]).astype(np.int32),
        "frame": np.concatenate(out["frame"]).astype(np.int32),
        "seq_names": np.array(seq_names),
        "joint_names": np.array(_CMU_JOINT_NAMES),
        "joint_parents": np.array(H36M16.parents, dtype=np.int32),
        "cam_R": np.stack(cam_R).astype(np.float32),
        "cam_t": np.stack(cam_t).astype(np.float32),
        "fps": np.array(fps, dtype=np.float32),
    }
