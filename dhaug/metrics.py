"""Pose-estimation metrics (pure, batched torch) and per-action aggregation.

Inputs are root-relative 3D poses in the same units (metres inside dhaug; tables report mm).
All 16 joints are averaged, the root included (it contributes 0 after root subtraction), as in
method.md §9.
"""

from __future__ import annotations

import numpy as np
import torch

PCK_THRESHOLD_MM = 150.0
#: AUC thresholds: 0, 5, ..., 150 mm (31 values), as in the 3DHP protocol.
AUC_THRESHOLDS_MM = tuple(float(t) for t in np.linspace(0, 150, 31))


def joint_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Euclidean error per joint. pred, target (..., J, 3) -> (..., J)."""
    return torch.linalg.norm(pred - target, dim=-1)


def mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint position error per pose. (..., J, 3) -> (...)."""
    return joint_errors(pred, target).mean(-1)


def procrustes_align(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Similarity-align ``pred`` to ``target`` per pose (scale, rotation without reflection,
    translation), the least-squares optimum (Umeyama). (..., J, 3) -> (..., J, 3)."""
    dtype = pred.dtype
    p, t = pred.double(), target.double()
    mu_p, mu_t = p.mean(-2, keepdim=True), t.mean(-2, keepdim=True)
    p0, t0 = p - mu_p, t - mu_t
    H = p0.transpose(-1, -2) @ t0  # (..., 3, 3) covariance
    U, S, Vh = torch.linalg.svd(H)
    d = torch.sign(torch.linalg.det(Vh.transpose(-1, -2) @ U.transpose(-1, -2)))
    d = torch.where(d == 0, torch.ones_like(d), d)
    D = torch.ones_like(S)
    D[..., -1] = d
    R = Vh.transpose(-1, -2) @ (D[..., None] * U.transpose(-1, -2))  # rotation mapping p0 -> t0
    var_p = (p0**2).sum((-1, -2))
    scale = (S * D).sum(-1) / var_p.clamp_min(1e-12)
    aligned = scale[..., None, None] * (p0 @ R.transpose(-1, -2)) + mu_t
    return aligned.to(dtype)


def p_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MPJPE after per-pose similarity Procrustes alignment. (..., J, 3) -> (...)."""
    return mpjpe(procrustes_align(pred, target), target)


def pck(pred: torch.Tensor, target: torch.Tensor, threshold: float = PCK_THRESHOLD_MM / 1000) -> torch.Tensor:
    """Percentage of joints with error below ``threshold`` (same units as the poses), per pose."""
    return (joint_errors(pred, target) < threshold).double().mean(-1) * 100


def auc(pred: torch.Tensor, target: torch.Tensor, thresholds=AUC_THRESHOLDS_MM, unit: float = 1000.0) -> torch.Tensor:
    """Mean PCK (%) over ``thresholds`` in mm, per pose; ``unit`` converts pose units to mm (1000 for metres)."""
    err = joint_errors(pred, target).double() * unit
    th = torch.tensor(thresholds, dtype=err.dtype, device=err.device)
    return (err[..., None] < th).double().mean(-1).mean(-1) * 100


def root_centred(pose: torch.Tensor) -> torch.Tensor:
    """``pose`` minus its root joint (joint 0). (..., J, 3) -> (..., J, 3)."""
    return pose - pose[..., :1, :]


METRICS = ("mpjpe", "p_mpjpe", "pck", "auc")


def pose_metrics(
    pred: torch.Tensor, target: torch.Tensor, metrics: tuple[str, ...] = METRICS
) -> dict[str, torch.Tensor]:
    """Per-pose MPJPE and P-MPJPE (mm), PCK@150 mm and AUC (%) for poses in metres — or only the named
    ``metrics`` (e.g. ``("mpjpe",)`` for a training curve: P-MPJPE's SVDs cost most). (N, J, 3) -> (N,) each.

    Both poses are root-centred first (method.md §9): a model that predicts a free root (SemGCN
    predicts all 16 joints) is scored on its pose, not on where it put the pelvis."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; known: {', '.join(METRICS)}")
    pred, target = root_centred(pred), root_centred(target)
    fns = {
        "mpjpe": lambda: mpjpe(pred, target).double() * 1000,
        "p_mpjpe": lambda: p_mpjpe(pred, target).double() * 1000,
        "pck": lambda: pck(pred, target),
        "auc": lambda: auc(pred, target),
    }
    return {k: fns[k]() for k in metrics}


def summarize(
    per_pose: dict[str, np.ndarray], action: np.ndarray, action_names: list[str], seq: np.ndarray | None = None
) -> dict:
    """Aggregate per-pose metrics per action and overall.

    Returns ``{"per_action": {name: {metric: mean, "frames": n}}, "frame_mean": {...},
    "action_mean": {...}}``: ``frame_mean`` weights every pose equally (the usual H36M number),
    ``action_mean`` averages the per-action means (each action weight 1). Given the sequence id of
    every pose, also ``sequence_mean``: the per-sequence means averaged, each sequence weight 1 (how
    the paper averages multi-frame VideoPose3D on Human3.6M, method.md §9).
    """
    keys = list(per_pose)
    per_action = {}
    for ai, name in enumerate(action_names):
        m = action == ai
        if m.any():
            per_action[name] = {k: float(per_pose[k][m].mean()) for k in keys}
            per_action[name]["frames"] = int(m.sum())
    frame_mean = {k: float(per_pose[k].mean()) for k in keys}
    frame_mean["frames"] = int(len(action))
    action_mean = {k: float(np.mean([v[k] for v in per_action.values()])) for k in keys}
    action_mean["actions"] = len(per_action)
    out: dict = {"per_action": per_action, "frame_mean": frame_mean, "action_mean": action_mean}
    if seq is not None:
        _, inverse, counts = np.unique(seq, return_inverse=True, return_counts=True)
        sequence_mean: dict = {k: float(np.mean(np.bincount(inverse, per_pose[k]) / counts)) for k in keys}
        sequence_mean["sequences"] = len(counts)
        out["sequence_mean"] = sequence_mean
    return out
