"""The training loop (method.md §5-§7), to be read top to bottom: set-up (config checks, data, the
synthetic-pair source of ``augment.method``, model, optimiser, precision), resume, then per epoch
the synthetic pairs (GAN or random poses; after the GAN-only warm-up) shuffled into the real pass
(``train.synthetic_batches`` mixed: the single-frame default) or in a pass of their own before it, the
checkpoint and the optional test curves; finally the evaluation of the *last* epoch. The whole training set lives
on the device as tensors; batches are index slices (:mod:`dhaug.steps`), with no per-sample Python work.
"""
from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
import torch

from . import checkpoint
from .augment.source import build_source
from .config import ExperimentConfig, load_config, save_config, validate
from .data import ExperimentData, load_experiment_data
from .errors import ConfigError, DataError
from .evaluate import evaluate_experiment, evaluate_set, report, summary_line
from .models import build_model
from .precision import enable_tf32, precision_note, resolve_precision
from .steps import learning_rate, make_optimizer, run_pass


class DivergenceError(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device = {name!r} but CUDA is not available; use 'auto' or 'cpu'")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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
    if hasattr(augmenter, "attach"):  # a source that reads the pose net (PoseAug's feedback loss) gets it here
        augmenter.attach(model)
    opt = make_optimizer(model, tc)
    precision = resolve_precision(tc.precision, device)
    if precision == "bf16":
        enable_tf32(device)
    if note := precision_note(precision, device):
        print(f"warning: {note}", flush=True)
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
        diff = checkpoint.config_differences(saved, cfg.to_dict())
        if diff:
            raise ConfigError(f"--resume: the config differs from the one in {ckpt_path} ("
                              + "; ".join(f"{k}: {a!r} there, {b!r} now" for k, a, b in diff[:5])
                              + "); use the same config, e.g. " + " ".join(f"{k}={a}" for k, a, _ in diff[:5])
                              + " (or a new out_dir to start afresh)")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if augmenter is not None and "augmenter" in state:
            augmenter.load_state_dict(state["augmenter"])
        checkpoint.set_rng_state(state["rng"])
        start_epoch, history = state["epoch"], state["history"]
        print(f"resumed from {ckpt_path} after epoch {start_epoch}/{loop_epochs}", flush=True)
    elif resume:
        print(f"--resume: no checkpoint at {ckpt_path}; starting from scratch", flush=True)
    save_config(cfg, out / "config.yaml")

    from torch.utils.tensorboard import SummaryWriter  # imported late: it is slow to import
    writer = SummaryWriter(str(out / "tensorboard"))
    batches = "" if augmenter is None else \
        (" mixed into the real batches" if tc.mixed_batches(frames) else " in a pass of their own")
    print(f"training {cfg.model.name} on {n} pairs ({data.train.name}) for {total_epochs} epochs on {device}"
          + (f" after {warm} GAN-only warm-up epochs" if warm else "") + ", "
          f"augmentation: {cfg.augment.method}{batches}; precision {precision}; "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters", flush=True)

    global_step = {"grad_norm": 0, "loss": 0}
    for h in history:  # a resumed run continues the step axis
        global_step["loss"] += h.get("real_steps", 0)
        global_step["grad_norm"] += h.get("real_steps", 0) * (2 if tc.flip else 1) * (2 if frames > 1 and tc.time_reverse else 1)
    for epoch in range(start_epoch, loop_epochs):
        t0 = time.time()
        train_pose_net = epoch >= warm
        lr = learning_rate(epoch - warm, tc) if train_pose_net else 0.0
        if train_pose_net and hasattr(augmenter, "pose_lr"):  # a source's own pose-net LR (PoseAug's, if chosen)
            lr = augmenter.pose_lr(epoch - warm, lr)
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        record = {"epoch": epoch + 1, "lr": lr}
        mix = None
        if augmenter is not None:  # this epoch's synthetic pairs: a pass of their own (method.md §5, §7) or mixed in
            logs, x_fake, y_fake = augmenter.epoch_pairs(epoch, progress)
            record.update(logs)
            record["fake_pairs"] = len(x_fake)
            bad = [k for k, v in logs.items() if not math.isfinite(v)]
            if bad:
                raise DivergenceError(f"GAN losses {', '.join(bad)} are not finite in epoch {epoch + 1}; stopped, "
                                      f"the last good checkpoint ({ckpt_path}) was kept")
            if train_pose_net and len(x_fake) >= 2:
                if tc.mixed_batches(frames):  # no pass of their own: shuffled into the real pass
                    mix = (x_fake.to(device), y_fake.to(device))
                else:
                    fake = run_pass(model, opt, x_fake.to(device), y_fake.to(device), tc, epoch - warm, "synthetic",
                                    progress, time_reverse=tc.time_reverse_synthetic, precision=precision)
                    record["fake_loss"] = fake["loss"]
                    record.update({f"synthetic_{k}": v for k, v in fake.items() if k not in ("loss", "steps")})
        train_loss = float("nan")
        if train_pose_net:  # with mixed synthetic batches: one pass over real + synthetic (its loss: both)
            xs, ys = (x_train, y_train) if mix is None else (torch.cat([x_train, mix[0]]), torch.cat([y_train, mix[1]]))
            real = run_pass(model, opt, xs, ys, tc, epoch - warm, "real", progress, precision=precision)
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
                 "history": history, "rng": checkpoint.rng_state(), "config": cfg.to_dict()}
        if augmenter is not None:
            state["augmenter"] = augmenter.state_dict()
        checkpoint.save_atomic(state, ckpt_path)
        synth = ""
        if augmenter is not None:
            how = "mixed into the real batches" if mix is not None else \
                f"synthetic loss {record.get('fake_loss', float('nan')):.5f}"
            # no pairs (e.g. PoseAug's pre-training epochs): nothing synthetic to report
            synth = f"{how} ({record['fake_pairs']} pairs)  " if record["fake_pairs"] else "real pairs only  "
        pose = (f"lr {lr:.2e}  loss {train_loss:.5f}  |grad| max {record['grad_norm_max']:.2f}  " + synth) if train_pose_net else \
            f"GAN warm-up, no pose-net step ({record.get('fake_pairs', 0)} generated pairs)  "
        print(f"epoch {epoch + 1}/{loop_epochs}  " + pose + "".join(f"{k} {v:.4g}  " for k, v in record.items() if k.startswith("gan/")) +
              f"{record['seconds']:.0f}s" + "".join(f"  {k} {v:.1f}" for k, v in record.items() if k.startswith("eval/")),
              flush=True)  # a redirected log is live
    writer.close()

    results = evaluate_experiment(model, data.tests, data.cross, cfg, device, data.train.fps / max(1, cfg.data.downsample),
                                  data.test_every)
    report(model, data.tests, results, history, out, device, title=f"{cfg.name}: {cfg.model.name}, last epoch ({total_epochs})",
           extra={"config": cfg.to_dict(), "epochs_trained": total_epochs, "data": data.description,
                  "train_pairs": n, "history": history, "precision": precision,
                  "synthetic_batches": "mixed" if tc.mixed_batches(frames) else "separate",
                  "device": str(device)})
    print(summary_line(results), flush=True)
    return results
