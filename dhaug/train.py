"""Training a lifting network on real (2D, 3D) pairs — the loop of method.md §5 without augmentation.

Read top to bottom: set-up, resume, the epoch loop (shuffle, steps with a mirrored second step,
LR schedule, checkpoint), then the final evaluation of the *last* epoch. The whole training set
lives on the device as two tensors; batches are index slices, with no per-sample Python work.
"""
from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import checkpoint
from .augment.source import build_source
from .config import ExperimentConfig, load_config, save_config, validate
from .data import ExperimentData, load_experiment_data
from .errors import ConfigError, DataError
from .evaluate import evaluate_experiment, evaluate_set, report, summary_line
from .models import build_model
from .precision import autocast, enable_tf32, resolve_precision
from .skeleton import mirror_pose


class DivergenceError(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device = {name!r} but CUDA is not available; use 'auto' or 'cpu'")
    return torch.device(name)


def learning_rate(epoch: int, cfg) -> float:
    """method.md §5: ``lr (1 - e/(E+1))`` for e < E, then ``lr/(E+1) * decay^(e-E+1)``."""
    E = cfg.epochs
    if epoch < E:
        return cfg.lr * (1 - epoch / (E + 1))
    return cfg.lr / (E + 1) * cfg.tail_decay ** (epoch - E + 1)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pose_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """``mse`` (mean squared coordinate error) or ``mpjpe`` (mean joint distance) of (B, J, 3) poses."""
    if kind == "mpjpe":
        return torch.linalg.norm(pred - target, dim=-1).mean()
    return nn.functional.mse_loss(pred, target)


def loss_kind(setting: str, x: torch.Tensor) -> str:
    """``train.loss`` for inputs ``x``: ``auto`` -> MPJPE for windows (B, T, J, 2), MSE otherwise (the paper)."""
    return setting if setting != "auto" else ("mpjpe" if x.ndim == 4 else "mse")


def train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, clip: float,
               loss: str = "mse", precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on the ``loss`` (mse | mpjpe) of root-relative 3D, the forward pass under
    ``precision`` (fp32 | bf16 autocast; the loss in float32); returns the detached loss and the
    gradient norm before clipping (device tensors: no host synchronisation)."""
    opt.zero_grad(set_to_none=True)
    with autocast(precision, x.device):
        pred = model(x)
    loss = pose_loss(pred.float(), y, loss)
    loss.backward()
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
    return torch.optim.Adam(model.parameters(), lr=tc.lr, amsgrad=tc.optimizer == "amsgrad")


def run_pass(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, tc, epoch: int,
             what: str, progress: bool, time_reverse: bool = True, precision: str = "fp32") -> dict:
    """One shuffled pass over (x, y), with a second step on the mirrored batch (and, for windows with
    ``time_reverse`` and ``tc.time_reverse``, on the reversed ones). Returns ``loss`` (mean over the
    batches' first steps), and over all steps ``grad_norm_mean``, ``grad_norm_max`` (before clipping) and
    ``clipped`` (fraction of steps whose gradient norm exceeded ``tc.grad_clip``) — read back once per pass."""
    n = len(x)
    # the shuffle depends only on (seed, epoch, what): a resumed run sees the same batches
    salt = 0 if what == "real" else 7919
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(tc.seed * 1_000_003 + epoch + salt)).to(x.device)
    B = tc.batch_size
    if tc.drop_last and n >= B:  # a short trailing batch destabilises BatchNorm + Adam (issue 11): skipped
        starts = list(range(0, n - B + 1, B))
    else:
        starts = [i for i in range(0, n, B) if n - i >= 2]  # BatchNorm needs >= 2 samples
    kind = loss_kind(tc.loss, x)
    losses, norms = [], []

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        loss, norm = train_step(model, opt, xb, yb, tc.grad_clip, kind, precision)
        norms.append(norm)
        return loss

    for i in tqdm(starts, desc=f"epoch {epoch + 1} {what}", leave=False, disable=not progress):
        idx = perm[i:i + tc.batch_size]
        xb, yb = x[idx], y[idx]
        losses.append(step(xb, yb))
        if tc.flip:
            step(mirror_pose(xb), mirror_pose(yb))
        if xb.ndim == 4 and tc.time_reverse and time_reverse:  # windows: the time-reversed input has the same centre frame
            step(xb.flip(1), yb)
            if tc.flip:
                step(mirror_pose(xb.flip(1)), mirror_pose(yb))
    if not losses:
        return {"loss": float("nan"), "grad_norm_mean": float("nan"), "grad_norm_max": float("nan"), "clipped": 0.0}
    n_ = torch.stack(norms).float()
    stats = torch.stack([torch.stack(losses).float().mean(), n_.mean(), n_.max(),
                         (n_ > tc.grad_clip).float().mean() if tc.grad_clip > 0 else n_.new_zeros(())]).tolist()
    out = dict(zip(("loss", "grad_norm_mean", "grad_norm_max", "clipped"), stats))
    out["steps"] = {"grad_norm": n_.tolist(), "loss": torch.stack(losses).float().tolist()}  # for TensorBoard
    return out


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _differences(a: dict, b: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(dotted key, value in a, value in b) for every leaf where two config dicts differ."""
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _differences(x, y, f"{prefix}{k}.")
        elif x != y:
            out.append((f"{prefix}{k}", x, y))
    return out


def _comparable(cfg_dict: dict) -> dict:
    """The parts of a config that must not change across a resume."""
    d = {k: v for k, v in cfg_dict.items() if k not in ("out_dir", "name")}
    d["train"] = {k: v for k, v in d["train"].items() if k not in ("device", "threads", "eval_batch_size", "eval_every_epoch",
                                                          "curve_every")}
    return d


def train(cfg: ExperimentConfig, resume: bool = False, data: ExperimentData | None = None,
          progress: bool = True) -> dict:
    """Train ``cfg.model`` on ``cfg.data``; returns the final results (also written to ``cfg.out_dir``)."""
    tc = cfg.train
    frames = cfg.model.frames
    validate(cfg)  # config errors first: before data loading and files
    out = Path(cfg.out_dir)
    ckpt_path = out / "checkpoint.pt"
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    device = resolve_device(tc.device)
    seed_everything(tc.seed)

    data = data or load_experiment_data(cfg.data, full_rate_tests=frames > 1)
    if frames > 1 and data.test_every is None:
        raise ConfigError("a multi-frame model needs whole test sequences: load the data with "
                          "load_experiment_data(cfg.data, full_rate_tests=True)")
    out.mkdir(parents=True, exist_ok=True)
    augmenter = build_source(cfg, data, device)
    x_train, y_train = data.train.tensors(device)
    if frames > 1:  # windows of consecutive (subsampled) training frames, edge-replicated (method.md §6)
        from .data.windows import window_rows
        x_train = x_train[torch.as_tensor(window_rows(data.train.seq, frames, 1, name=data.train.name), device=device)]
    n = len(x_train)
    if n < 2:
        raise DataError(f"the training set {data.train.name!r} has {n} pairs; need at least 2")
    model = build_model(cfg.model).to(device)
    opt = make_optimizer(model, tc)
    precision = resolve_precision(tc.precision, device)
    if precision == "bf16":
        enable_tf32(device)
    if tc.deterministic and device.type == "cuda":  # torch's process-wide switches, set by this entry point only
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    total_epochs = tc.epochs + tc.tail_epochs  # pose-net epochs, the same with and without augmentation
    # GAN-only warm-up epochs come first and do not consume the pose net's LR schedule (the original
    # stepped its scheduler through them, method.md §11)
    warm = augmenter.pose_start if augmenter is not None else 0
    loop_epochs = warm + total_epochs
    start_epoch, history = 0, []

    if resume and ckpt_path.is_file():
        state = checkpoint.load(ckpt_path, map_location=device)
        saved = load_config(state["config"]).to_dict()  # migrated: fields added since get the old behaviour
        diff = _differences(_comparable(saved), _comparable(cfg.to_dict()))
        if diff:
            raise ConfigError(f"--resume: the config differs from the one in {ckpt_path} ("
                              + "; ".join(f"{k}: {a!r} there, {b!r} now" for k, a, b in diff[:5])
                              + "); use the same config, e.g. " + " ".join(f"{k}={a}" for k, a, _ in diff[:5])
                              + " (or a new out_dir to start afresh)")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if augmenter is not None and "augmenter" in state:
            augmenter.load_state_dict(state["augmenter"])
        _set_rng_state(state["rng"])
        start_epoch, history = state["epoch"], state["history"]
        print(f"resumed from {ckpt_path} after epoch {start_epoch}/{loop_epochs}")
    elif resume:
        print(f"--resume: no checkpoint at {ckpt_path}; starting from scratch")
    save_config(cfg, out / "config.yaml")

    from torch.utils.tensorboard import SummaryWriter  # imported late: it is slow to import
    writer = SummaryWriter(str(out / "tensorboard"))
    print(f"training {cfg.model.name} on {n} pairs ({data.train.name}) for {total_epochs} epochs on {device}"
          + (f" after {warm} GAN-only warm-up epochs" if warm else "") + ", "
          f"augmentation: {cfg.augment.method}; precision {precision}; "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")

    global_step = {"grad_norm": 0, "loss": 0}
    for h in history:  # a resumed run continues the step axis
        global_step["loss"] += h.get("real_steps", 0)
        global_step["grad_norm"] += h.get("real_steps", 0) * (2 if tc.flip else 1) * (2 if frames > 1 and tc.time_reverse else 1)
    for epoch in range(start_epoch, loop_epochs):
        t0 = time.time()
        train_pose_net = epoch >= warm
        lr = learning_rate(epoch - warm, tc) if train_pose_net else 0.0
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        record = {"epoch": epoch + 1, "lr": lr}
        if augmenter is not None:  # a pass over this epoch's synthetic pairs, then the real pass (method.md §5, §7)
            logs, x_fake, y_fake = augmenter.epoch_pairs(epoch, progress)
            record.update(logs)
            record["fake_pairs"] = len(x_fake)
            bad = [k for k, v in logs.items() if not math.isfinite(v)]
            if bad:
                raise DivergenceError(f"GAN losses {', '.join(bad)} are not finite in epoch {epoch + 1}; stopped, "
                                      f"the last good checkpoint ({ckpt_path}) was kept")
            if train_pose_net and len(x_fake) >= 2:
                fake = run_pass(model, opt, x_fake.to(device), y_fake.to(device), tc, epoch - warm, "synthetic",
                                progress, time_reverse=tc.time_reverse_synthetic, precision=precision)
                record["fake_loss"] = fake["loss"]
                record.update({f"synthetic_{k}": v for k, v in fake.items() if k not in ("loss", "steps")})
        train_loss = float("nan")
        if train_pose_net:
            real = run_pass(model, opt, x_train, y_train, tc, epoch - warm, "real", progress, precision=precision)
            train_loss = real["loss"]
            record.update({k: v for k, v in real.items() if k not in ("loss", "steps")})
            record["real_steps"] = len(real["steps"]["loss"])
            for k, values in real["steps"].items():  # every step of the real pass (k: grad_norm, loss)
                for j, v in enumerate(values):
                    writer.add_scalar(f"step/{k}", v, global_step[k] + j)
                global_step[k] += len(values)
        if train_pose_net and (not math.isfinite(train_loss) or not math.isfinite(record.get("fake_loss", 0.0))):
            raise DivergenceError(f"training loss is {train_loss} (synthetic: {record.get('fake_loss')}) in epoch "
                                  f"{epoch + 1}; stopped, the last good checkpoint ({ckpt_path}) was kept")
        record.update(train_loss=train_loss, seconds=time.time() - t0)
        if tc.eval_every_epoch:  # curves only (every curve_every-th test frame); the reported numbers come below
            for name, s in data.tests.items():
                r = evaluate_set(model, s, device, tc.eval_batch_size, frames=frames,
                                 every=(data.test_every or {}).get(name, 1) * tc.curve_every)
                record[f"eval/{name}"] = r["frame_mean"]["mpjpe"]
        history.append(record)
        for k, v in record.items():
            if k not in ("epoch", "fake_pairs", "real_steps"):
                writer.add_scalar(k if "/" in k else f"train/{k}", v, epoch + 1)
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                 "history": history, "rng": _rng_state(), "config": cfg.to_dict()}
        if augmenter is not None:
            state["augmenter"] = augmenter.state_dict()
        checkpoint.save_atomic(state, ckpt_path)
        pose = (f"lr {lr:.2e}  loss {train_loss:.5f}  |grad| max {record['grad_norm_max']:.2f}  " + (f"synthetic loss {record.get('fake_loss', float('nan')):.5f} "
                f"({record['fake_pairs']} pairs)  " if augmenter else "")) if train_pose_net else \
            f"GAN warm-up, no pose-net step ({record.get('fake_pairs', 0)} generated pairs)  "
        print(f"epoch {epoch + 1}/{loop_epochs}  " + pose + "".join(f"{k} {v:.3f}  " for k, v in record.items() if k.startswith("gan/")) +
              f"{record['seconds']:.0f}s" + "".join(f"  {k} {v:.1f}" for k, v in record.items() if k.startswith("eval/")))
    writer.close()

    results = evaluate_experiment(model, data.tests, data.cross, cfg, device, data.train.fps / max(1, cfg.data.downsample),
                                  data.test_every)
    report(model, data.tests, results, history, out, device, title=f"{cfg.name}: {cfg.model.name}, last epoch ({total_epochs})",
           extra={"config": cfg.to_dict(), "epochs_trained": total_epochs, "data": data.description,
                  "train_pairs": n, "history": history, "precision": precision,
                  "device": str(device)})
    print(summary_line(results))
    return results
