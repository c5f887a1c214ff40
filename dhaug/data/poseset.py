"""``PoseSet``: a flat set of (2D, 3D) pairs with the labels evaluation and video models need.

Frames of one sequence (subject × action × camera, or a cross-dataset clip × camera) are stored
contiguously and in time order, so video windows can be cut later from ``seq`` and ``frame``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DataError


@dataclass
class PoseSet:
    """(N,) pairs. 3D is camera-frame, root-relative, metres; 2D is normalised screen coordinates.

    Attributes:
        pose2d: (N, 16, 2) float32 network input (not root-centred).
        pose3d: (N, 16, 3) float32 root-relative camera-frame target (root row is zero).
        root: (N, 3) float32 camera-frame position of the pelvis (metres).
        action: (N,) int index into ``action_names`` (the action group used for per-action metrics).
        seq: (N,) int sequence id (index into ``seq_names``); frames of a sequence are contiguous.
        frame: (N,) int frame index within the sequence's original timeline.
        camera: (N,) int camera index within its subject (or clip).
        subject: (N,) int index into ``subject_names`` (zeros when unknown).
        name: what this set is (e.g. ``"h36m S9,S11"``, ``"cmu_test"``).
    """

    pose2d: np.ndarray
    pose3d: np.ndarray
    root: np.ndarray
    action: np.ndarray
    seq: np.ndarray
    frame: np.ndarray
    camera: np.ndarray
    action_names: list[str] = field(default_factory=list)
    seq_names: list[str] = field(default_factory=list)
    name: str = ""
    fps: float = 50.0
    subject: np.ndarray | None = None
    subject_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.pose2d)
        if self.subject is None:
            self.subject = np.zeros(n, np.int64)
        checks = {
            "pose2d": (self.pose2d, (n, 16, 2)),
            "pose3d": (self.pose3d, (n, 16, 3)),
            "root": (self.root, (n, 3)),
            "action": (self.action, (n,)),
            "seq": (self.seq, (n,)),
            "frame": (self.frame, (n,)),
            "camera": (self.camera, (n,)),
            "subject": (self.subject, (n,)),
        }
        for key, (arr, shape) in checks.items():
            if arr.shape != shape:
                raise DataError(f"{self.name or 'PoseSet'}: {key} has shape {arr.shape}, expected {shape}")

    def __len__(self) -> int:
        return len(self.pose2d)

    def subset(self, index) -> "PoseSet":
        """A new set holding the rows ``index`` (boolean mask or integer array)."""
        return PoseSet(
            self.pose2d[index],
            self.pose3d[index],
            self.root[index],
            self.action[index],
            self.seq[index],
            self.frame[index],
            self.camera[index],
            list(self.action_names),
            list(self.seq_names),
            self.name,
            self.fps,
            self.subject[index],
            list(self.subject_names),
        )

    def every(self, step: int) -> "PoseSet":
        """Keep every ``step``-th frame of each sequence (by ``frame`` index)."""
        if step <= 1:
            return self
        return self.subset(self.frame % step == 0)

    def tensors(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """(pose2d, pose3d) as float32 tensors on ``device`` (whole set, no copies per batch)."""
        return (
            torch.as_tensor(self.pose2d, dtype=torch.float32, device=device),
            torch.as_tensor(self.pose3d, dtype=torch.float32, device=device),
        )


def concat(sets: list[PoseSet], name: str = "") -> PoseSet:
    """Concatenate sets; action and sequence ids are re-mapped onto the merged name lists."""
    if not sets:
        raise DataError(f"{name or 'PoseSet'}: nothing to concatenate (no sequences selected)")
    action_names: list[str] = []
    subject_names: list[str] = []
    for s in sets:
        action_names += [a for a in s.action_names if a not in action_names]
        subject_names += [a for a in s.subject_names if a not in subject_names]
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("pose2d", "pose3d", "root", "action", "seq", "frame", "camera", "subject")
    }
    seq_names: list[str] = []
    for s in sets:
        amap = np.array([action_names.index(a) for a in s.action_names], dtype=np.int64)
        parts["action"].append(amap[s.action] if len(s) else s.action.astype(np.int64))
        parts["seq"].append(s.seq.astype(np.int64) + len(seq_names))
        smap = np.array([subject_names.index(a) for a in s.subject_names] or [0], dtype=np.int64)
        parts["subject"].append(smap[s.subject] if s.subject_names else s.subject.astype(np.int64))
        seq_names += s.seq_names
        for k in ("pose2d", "pose3d", "root", "frame", "camera"):
            parts[k].append(getattr(s, k))
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    return PoseSet(
        **arrays,
        action_names=action_names,
        seq_names=seq_names,
        name=name,
        fps=sets[0].fps,
        subject_names=subject_names,
    )
