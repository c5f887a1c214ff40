"""The pose net's optimisation: its loss, its optimiser, one step (under the training precision) and
one shuffled pass with its mirrored / time-reversed steps."""

from __future__ import annotations

import torch
from torch import nn

from .precision import autocast
from .progress import progress_bar
from .skeleton import mirror_pose
from .timing import section


def pose_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """``mse`` (mean squared coordinate error) or ``mpjpe`` (mean joint distance) of (B, J, 3) poses."""
    if kind == "mpjpe":
        return torch.linalg.norm(pred - target, dim=-1).mean()
    return nn.functional.mse_loss(pred, target)


def loss_kind(setting: str, x: torch.Tensor) -> str:
    """``train.loss`` for inputs ``x``: ``auto`` -> MPJPE for windows (B, T, J, 2), MSE otherwise (the paper)."""
    return setting if setting != "auto" else ("mpjpe" if x.ndim == 4 else "mse")


def train_step(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    clip: float,
    loss: str = "mse",
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on the ``loss`` (mse | mpjpe) of root-relative 3D, the forward pass under
    ``precision`` (fp32 | bf16 autocast; the loss in float32); returns the detached loss and the
    gradient norm before clipping (device tensors: no host synchronisation)."""
    with section("pose/forward_backward"):
        opt.zero_grad(set_to_none=True)
        with autocast(precision, x.device):
            pred = model(x)
        loss = pose_loss(pred.float(), y, loss)
        loss.backward()
    with section("pose/optimizer"):
        params = [p for p in model.parameters() if p.grad is not None]
        if clip > 0:
            norm = nn.utils.clip_grad_norm_(params, clip)
        else:
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
        opt.step()
    return loss.detach(), norm.detach()


def make_optimizer(model: nn.Module, tc) -> torch.optim.Optimizer:
    """``train.optimizer``: ``adam`` or ``amsgrad`` (Adam that never lets a parameter's step size grow
    back after its gradients shrank: VideoPose3D's optimiser), at ``tc.lr``."""
    params = list(model.parameters())
    fused = all(p.device.type in ("cpu", "cuda") for p in params)  # one kernel for all the update's arithmetic
    return torch.optim.Adam(params, lr=tc.lr, amsgrad=tc.optimizer == "amsgrad", fused=fused or None)


def run_pass(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    tc,
    epoch: int,
    what: str,
    progress: bool,
    time_reverse: bool = True,
    precision: str = "fp32",
    batch_size: int | None = None,
    steps: int | None = None,
    rank: int = 0,
) -> dict:
    """One shuffled pass over (x, y), with a second step on the mirrored batch (and, for windows with
    ``time_reverse`` and ``tc.time_reverse``, on the reversed ones). Returns ``loss`` (mean over the
    batches' first steps), and over all steps ``grad_norm_mean``, ``grad_norm_max`` (before clipping) and
    ``clipped`` (fraction of steps whose gradient norm exceeded ``tc.grad_clip``) — read back once per pass.
    Data-parallel ranks give their share of the batch (``batch_size``, default ``tc.batch_size``), the
    common number of ``steps`` (at most) and their ``rank`` (it salts the shuffle)."""
    n = len(x)
    # the shuffle depends only on (seed, epoch, what, rank): a resumed run sees the same batches
    salt = (0 if what == "real" else 7919) + 104_729 * rank
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(tc.seed * 1_000_003 + epoch + salt)).to(x.device)
    B = batch_size or tc.batch_size
    if tc.drop_last and n >= B:  # a short trailing batch destabilises BatchNorm + Adam (issue 11): skipped
        starts = list(range(0, n - B + 1, B))
    else:
        starts = [i for i in range(0, n, B) if n - i >= 2]  # BatchNorm needs >= 2 samples
    starts = starts[:steps]
    kind = loss_kind(tc.loss, x)
    losses, norms = [], []

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        loss, norm = train_step(model, opt, xb, yb, tc.grad_clip, kind, precision)
        norms.append(norm)
        return loss

    for i in progress_bar(starts, desc=f"epoch {epoch + 1} {what}", unit="batch", enabled=progress):
        with section("pose/batch"):
            idx = perm[i : i + B]
            xb, yb = x[idx], y[idx]
        losses.append(step(xb, yb))
        if tc.flip:
            with section("pose/batch"):
                xm, ym = mirror_pose(xb), mirror_pose(yb)
            step(xm, ym)
        if (
            xb.ndim == 4 and tc.time_reverse and time_reverse
        ):  # windows: the time-reversed input has the same centre frame
            with section("pose/batch"):
                xr = xb.flip(1)
            step(xr, yb)
            if tc.flip:
                with section("pose/batch"):
                    xm, ym = mirror_pose(xr), mirror_pose(yb)
                step(xm, ym)
    if not losses:
        return {"loss": float("nan"), "grad_norm_mean": float("nan"), "grad_norm_max": float("nan"), "clipped": 0.0}
    n_ = torch.stack(norms).float()
    stats = torch.stack(
        [
            torch.stack(losses).float().mean(),
            n_.mean(),
            n_.max(),
            (n_ > tc.grad_clip).float().mean() if tc.grad_clip > 0 else n_.new_zeros(()),
        ]
    ).tolist()
    out = dict(zip(("loss", "grad_norm_mean", "grad_norm_max", "clipped"), stats))
    out["steps"] = {"grad_norm": n_.tolist(), "loss": torch.stack(losses).float().tolist()}  # for TensorBoard
    return out
