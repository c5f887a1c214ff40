"""The training loop (method.md §5-§7), read top to bottom: set-up (data, the synthetic-pair source of
``augment.method``, model, optimiser, precision), resume, then per epoch the synthetic pairs (after the
source's pose-net-free warm-up) shuffled into the real pass (``train.synthetic_batches`` mixed) or in a
pass of their own before it, the optional test curves and the checkpoint; finally the evaluation of the
*last* epoch. The training set lives on the device as tensors; batches are index slices
(:mod:`dhaug.optim`). Under torchrun each process trains on its shard (:mod:`dhaug.distributed`).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint, distributed
from .augment import SyntheticSource, build_source
from .config import ExperimentConfig, load_config, save_config, validate
from .data import ExperimentData, load_experiment_data
from .data.windows import window_rows
from .device import keep_freed_memory, resolve_device
from .distributed import Ranks
from .errors import ConfigError, DataError
from .evaluate import evaluate_experiment, evaluate_set, report, summary_line
from .files import claim_output_dir
from .models import build_model
from .optim import make_optimizer, run_pass
from .precision import enable_tf32, precision_note, resolve_precision
from .schedule import learning_rate
from .timing import section

#: A folder holding either of these holds a run: continued with --resume, replaced only with --force.
RUN_FILES = ("checkpoint.pt", "results.json")

__all__ = ["DivergenceError", "resolve_device", "seed_everything", "train"]


class DivergenceError(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class _Run:
    """What the epochs share: the pose net (``net``: the DDP-wrapped one when distributed), its optimiser,
    the synthetic source, this rank's training tensors and the loop's bounds."""

    model: nn.Module
    net: nn.Module
    opt: torch.optim.Optimizer
    source: SyntheticSource | None
    x: torch.Tensor
    y: torch.Tensor
    precision: str
    warm: int
    epochs: int
    ranks: Ranks
    device: torch.device


def train(
    cfg: ExperimentConfig,
    resume: bool = False,
    data: ExperimentData | None = None,
    progress: bool = True,
    force: bool = False,
) -> dict:
    """Train ``cfg.model`` on ``cfg.data``; returns the final results (also written to ``cfg.out_dir``;
    under torchrun by rank 0, which alone returns them: the other ranks return ``{}``). A folder that
    holds a run is continued with ``resume`` or replaced with ``force``, never silently."""
    validate(cfg)  # config errors first: before data loading and files
    claim_output_dir(cfg.out_dir, force or resume, () if resume else RUN_FILES, "out_dir (--out)")
    ranks, device = distributed.setup(cfg.train.device)
    try:
        return _train(cfg, resume, data, progress and ranks.main, ranks, device or resolve_device(cfg.train.device))
    finally:
        distributed.teardown(ranks)


def _train(
    cfg: ExperimentConfig, resume: bool, data: ExperimentData | None, progress: bool, ranks: Ranks, device: torch.device
) -> dict:
    tc = cfg.train
    out = Path(cfg.out_dir)
    ckpt_path = out / "checkpoint.pt"
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(tc.seed)

    # --- set-up: data (this rank's shard), pose net, optimiser, synthetic source ---------------------------------
    data = _training_data(cfg, data, ranks)
    if ranks.main:
        out.mkdir(parents=True, exist_ok=True)
    run = _build(cfg, data, ranks, device)

    # --- resume ----------------------------------------------------------------------------------------------
    start_epoch, history = _resume(run, cfg, ckpt_path) if resume and ckpt_path.is_file() else (0, [])
    if resume and not ckpt_path.is_file() and ranks.main:
        print(f"--resume: no checkpoint at {ckpt_path}; starting from scratch", flush=True)
    log = _Log(cfg, run, out, history) if ranks.main else None
    if log is not None:
        print(_opening_line(cfg, data, run), flush=True)

    # --- the epochs: synthetic pairs, the pose net's pass(es), test curves, checkpoint --------------------------
    for epoch in range(start_epoch, run.epochs):
        t0 = time.time()
        record, step_logs = _epoch(run, cfg, epoch, progress, ckpt_path)
        record["seconds"] = time.time() - t0
        if tc.eval_every_epoch and epoch >= run.warm and ranks.main:  # warm-up: the pose net has not changed
            record.update(_curves(run, data, cfg))
        history.append(record)
        if log is not None:
            log.epoch(record, step_logs, epoch)
        _save(run, cfg, epoch, history, ckpt_path)
    if log is not None:
        log.close()

    # --- the last epoch's evaluation (rank 0) ------------------------------------------------------------------
    return _final_evaluation(run, cfg, data, history, out) if ranks.main else {}


def _training_data(cfg: ExperimentConfig, data: ExperimentData | None, ranks: Ranks) -> ExperimentData:
    """The experiment's data (loaded unless given), the training set cut to this rank's shard."""
    tc, frames = cfg.train, cfg.model.frames
    data = data or load_experiment_data(cfg.data, full_rate_tests=frames > 1)
    if frames > 1 and data.test_every is None:
        raise ConfigError(
            "a multi-frame model needs whole test sequences: load the data with "
            "load_experiment_data(cfg.data, full_rate_tests=True)"
        )
    if not ranks.active:
        return data
    if tc.batch_size % ranks.world:
        raise ConfigError(f"train.batch_size = {tc.batch_size} must be divisible by the {ranks.world} processes")
    if frames > 1:  # a shard of rows would cut the windows of consecutive frames
        raise ConfigError(
            f"model.frames = {frames}: several processes train single-frame models only so far; "
            "run multi-frame models in one process"
        )
    return replace(data, train=data.train.subset(distributed.shard_rows(len(data.train), ranks, tc.seed)))


def _curves(run: _Run, data: ExperimentData, cfg: ExperimentConfig) -> dict[str, float]:
    """MPJPE (mm) of the pose net on every ``train.curve_every``-th test frame: ``{"eval/<set>": value}``."""
    tc = cfg.train
    with section("eval/curves"):
        return {
            f"eval/{name}": evaluate_set(
                run.model,
                s,
                run.device,
                tc.eval_batch_size,
                frames=cfg.model.frames,
                metrics=("mpjpe",),
                every=(data.test_every or {}).get(name, 1) * tc.curve_every,
            )["frame_mean"]["mpjpe"]
            for name, s in data.tests.items()
        }


def _final_evaluation(run: _Run, cfg: ExperimentConfig, data: ExperimentData, history: list, out: Path) -> dict:
    """Score the last epoch's pose net on every test and cross-dataset set; write results and pictures."""
    tc, total = cfg.train, cfg.train.epochs + cfg.train.tail_epochs
    results = evaluate_experiment(
        run.model,
        data.tests,
        data.cross,
        cfg,
        run.device,
        data.train.fps / max(1, cfg.data.downsample),
        data.test_every,
    )
    report(
        run.model,
        data.tests,
        results,
        history,
        out,
        run.device,
        title=f"{cfg.name}: {cfg.model.name}, last epoch ({total})",
        extra={
            "config": cfg.to_dict(),
            "epochs_trained": total,
            "data": data.description,
            "train_pairs": len(run.x) * run.ranks.world,
            "history": history,
            "precision": run.precision,
            "synthetic_batches": "mixed" if tc.mixed_batches(cfg.model.frames) else "separate",
            "device": str(run.device),
            "processes": run.ranks.world,
        },
    )
    print(summary_line(results), flush=True)
    return results


class _Log:
    """Rank 0's record of the run: the config file, TensorBoard (per step of the real pass and per epoch)
    and one printed line per epoch (a redirected log is live)."""

    def __init__(self, cfg: ExperimentConfig, run: _Run, out: Path, history: list) -> None:
        from torch.utils.tensorboard import SummaryWriter  # late: slow to import

        save_config(cfg, out / "config.yaml")
        self.writer = SummaryWriter(str(out / "tensorboard"))
        self.run, self.mixed = run, cfg.train.mixed_batches(cfg.model.frames)
        tc = cfg.train
        per_batch = (2 if tc.flip else 1) * (2 if cfg.model.frames > 1 and tc.time_reverse else 1)
        real_steps = sum(h.get("real_steps", 0) for h in history)  # a resumed run continues the step axis
        self.steps = {"loss": real_steps, "grad_norm": real_steps * per_batch}

    def epoch(self, record: dict, step_logs: dict, epoch: int) -> None:
        with section("io/logging"):
            for k, values in step_logs.items():  # every step of the real pass (k: grad_norm, loss)
                for j, v in enumerate(values):
                    self.writer.add_scalar(f"step/{k}", v, self.steps[k] + j)
                self.steps[k] += len(values)
            for k, v in record.items():
                if k not in ("epoch", "fake_pairs", "real_steps"):
                    self.writer.add_scalar(k if "/" in k else f"train/{k}", v, epoch + 1)
            print(_epoch_line(record, self.run, epoch, self.mixed), flush=True)

    def close(self) -> None:
        self.writer.close()


def _build(cfg: ExperimentConfig, data: ExperimentData, ranks: Ranks, device: torch.device) -> _Run:
    """The pose net, its optimiser, the synthetic source (seeded and sized per rank) and the training tensors."""
    tc, frames = cfg.train, cfg.model.frames
    source_cfg = cfg
    if ranks.active:  # each rank draws its own share of the synthetic pairs from its own seed
        ac = cfg.augment
        source_cfg = replace(
            cfg,
            augment=replace(
                ac,
                num_poses=max(1, ac.num_poses // ranks.world),
                gan=replace(ac.gan, batch_size=(ac.gan.batch_size or tc.batch_size) // ranks.world),
                poseaug=replace(ac.poseaug, batch_size=(ac.poseaug.batch_size or tc.batch_size) // ranks.world),
            ),
            train=replace(tc, seed=tc.seed + 1009 * ranks.rank),
        )
    source = build_source(source_cfg, data, device)
    x, y = data.train.tensors(device)
    if frames > 1:  # windows of consecutive (subsampled) training frames, edge-replicated (method.md §6)
        x = x[torch.as_tensor(window_rows(data.train.seq, frames, 1, name=data.train.name), device=device)]
    if len(x) < 2:
        raise DataError(f"the training set {data.train.name!r} has {len(x)} pairs; need at least 2")
    model = build_model(cfg.model).to(device)
    if ranks.rank:  # the same initial weights everywhere (seeded above), then each rank its own dropout masks
        torch.manual_seed(tc.seed + 1009 * ranks.rank)
    net = distributed.wrap_pose_net(torch.compile(model) if tc.compile else model, ranks, device)
    if source is not None:
        distributed.sync_source(source, ranks)
        source.attach(model)  # a source may read the pose net (PoseAug's feedback loss)
    precision = resolve_precision(tc.precision, device)
    if precision == "bf16":
        enable_tf32(device)
    if (note := precision_note(precision, device)) and ranks.main:
        print(f"warning: {note}", flush=True)
    if tc.deterministic and device.type == "cuda":  # torch's process-wide switches, set by this entry point only
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    # source warm-up epochs come first and do not consume the pose net's LR schedule (method.md §11)
    warm = source.pose_start if source is not None else 0
    return _Run(
        model,
        net,
        make_optimizer(model, tc),
        source,
        x,
        y,
        precision,
        warm,
        warm + tc.epochs + tc.tail_epochs,
        ranks,
        device,
    )


def _resume(run: _Run, cfg: ExperimentConfig, ckpt_path: Path) -> tuple[int, list]:
    """Load the checkpoint into ``run``; returns (epochs done, history)."""
    state = checkpoint.load(ckpt_path, map_location=run.device)
    saved = load_config(state["config"]).to_dict()  # migrated: fields added since get the old behaviour
    diff = checkpoint.config_differences(saved, cfg.to_dict())
    if diff:
        raise ConfigError(
            f"--resume: the config differs from the one in {ckpt_path} ("
            + "; ".join(f"{k}: {a!r} there, {b!r} now" for k, a, b in diff[:5])
            + "); use the same config, e.g. "
            + " ".join(f"{k}={a}" for k, a, _ in diff[:5])
            + " (or a new out_dir to start afresh)"
        )
    ranks = state.get("ranks", [])
    if len(ranks) > 1 or run.ranks.active:
        if len(ranks) != run.ranks.world:
            raise ConfigError(
                f"--resume: {ckpt_path} was written by {max(1, len(ranks))} processes; resume it with "
                f"as many (now {run.ranks.world})"
            )
    run.model.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    own = ranks[run.ranks.rank] if ranks else {"rng": state["rng"]}
    if run.source is not None and "augmenter" in state:
        aug_state = state["augmenter"]
        if "augmenter_rng" in own:
            aug_state = {**aug_state, "rng": own["augmenter_rng"]}
        run.source.load_state_dict(aug_state)
    checkpoint.set_rng_state(own["rng"])
    if run.ranks.main:
        print(f"resumed from {ckpt_path} after epoch {state['epoch']}/{run.epochs}", flush=True)
    return state["epoch"], state["history"]


def _epoch(run: _Run, cfg: ExperimentConfig, epoch: int, progress: bool, ckpt_path: Path) -> tuple[dict, dict]:
    """One loop epoch: the source's synthetic pairs, then the pose net's pass(es). Returns the epoch's
    record and the real pass's per-step values (for TensorBoard)."""
    tc, frames = cfg.train, cfg.model.frames
    pose_epoch = epoch - run.warm  # < 0: a warm-up epoch of the source, no pose-net step
    lr = learning_rate(pose_epoch, tc) if pose_epoch >= 0 else 0.0
    if pose_epoch >= 0 and run.source is not None:  # a source's own pose-net LR (PoseAug's, if chosen)
        lr = run.source.pose_lr(pose_epoch, lr)
    for group in run.opt.param_groups:
        group["lr"] = lr
    run.net.train()
    record: dict = {"epoch": epoch + 1, "lr": lr}
    xs, ys = run.x, run.y
    if run.source is not None:  # this epoch's synthetic pairs (method.md §5, §7)
        with section("synthetic/pairs"):
            logs, x_fake, y_fake = run.source.epoch_pairs(epoch, progress)
        record.update(logs, fake_pairs=len(x_fake) * run.ranks.world)
        bad = [k for k, v in logs.items() if not math.isfinite(v)]
        if bad:
            raise DivergenceError(
                f"GAN losses {', '.join(bad)} are not finite in epoch {epoch + 1}; stopped, "
                f"the last good checkpoint ({ckpt_path}) was kept"
            )
        if pose_epoch >= 0 and len(x_fake) >= 2:
            x_fake, y_fake = x_fake.to(run.device), y_fake.to(run.device)
            if tc.mixed_batches(frames):  # no pass of their own: shuffled into the real pass
                with section("synthetic/mix"):
                    xs, ys = torch.cat([xs, x_fake]), torch.cat([ys, y_fake])
            else:
                fake = _pass(run, tc, x_fake, y_fake, pose_epoch, "synthetic", progress, tc.time_reverse_synthetic)
                record["fake_loss"] = fake["loss"]
                record.update({f"synthetic_{k}": v for k, v in fake.items() if k not in ("loss", "steps")})
    if pose_epoch < 0:
        record["train_loss"] = float("nan")
        return record, {}
    real = _pass(run, tc, xs, ys, pose_epoch, "real", progress, True)  # with mixed batches: real + synthetic
    record.update(
        {k: v for k, v in real.items() if k not in ("loss", "steps")},
        train_loss=real["loss"],
        real_steps=len(real["steps"]["loss"]),
    )
    if not math.isfinite(real["loss"]) or not math.isfinite(record.get("fake_loss", 0.0)):
        raise DivergenceError(
            f"training loss is {real['loss']} (synthetic: {record.get('fake_loss')}) in epoch "
            f"{epoch + 1}; stopped, the last good checkpoint ({ckpt_path}) was kept"
        )
    return record, real["steps"]


def _pass(
    run: _Run, tc, x: torch.Tensor, y: torch.Tensor, pose_epoch: int, what: str, progress: bool, time_reverse: bool
) -> dict:
    """One pose-net pass; data-parallel ranks take equal numbers of steps of their share of the batch."""
    B = tc.batch_size // run.ranks.world
    steps = None
    if run.ranks.active:
        steps = distributed.common_steps(len(x) // B if tc.drop_last else math.ceil(len(x) / B), run.ranks)
    return run_pass(
        run.net,
        run.opt,
        x,
        y,
        tc,
        pose_epoch,
        what,
        progress,
        time_reverse=time_reverse,
        precision=run.precision,
        batch_size=B,
        steps=steps,
        rank=run.ranks.rank,
    )


def _save(run: _Run, cfg: ExperimentConfig, epoch: int, history: list, ckpt_path: Path) -> None:
    """The atomic checkpoint after an epoch (rank 0 writes it; with every rank's random state)."""
    with section("io/checkpoint"):
        own = {"rng": checkpoint.rng_state()}
        source_state = run.source.state_dict() if run.source is not None else None  # built once per epoch
        if source_state is not None and run.ranks.active:
            own["augmenter_rng"] = source_state.get("rng")
        ranks = distributed.gather(own, run.ranks)
        if run.ranks.main:
            state = {
                "model": run.model.state_dict(),
                "optimizer": run.opt.state_dict(),
                "epoch": epoch + 1,
                "history": history,
                "rng": own["rng"],
                "config": cfg.to_dict(),
            }
            if run.ranks.active:
                state["ranks"] = ranks
            if source_state is not None:
                state["augmenter"] = source_state
            checkpoint.save_atomic(state, ckpt_path)
        distributed.barrier(run.ranks)


def _opening_line(cfg: ExperimentConfig, data: ExperimentData, run: _Run) -> str:
    tc, warm = cfg.train, run.warm
    batches = (
        ""
        if run.source is None
        else (" mixed into the real batches" if tc.mixed_batches(cfg.model.frames) else " in a pass of their own")
    )
    procs = f" x {run.ranks.world} processes" if run.ranks.active else ""
    return (
        f"training {cfg.model.name} on {len(run.x) * run.ranks.world} pairs ({data.train.name}) for "
        f"{tc.epochs + tc.tail_epochs} epochs on {run.device}{procs}"
        + (f" after {warm} GAN-only warm-up epochs" if warm else "")
        + ", "
        f"augmentation: {cfg.augment.method}{batches}; precision {run.precision}; "
        f"{sum(p.numel() for p in run.model.parameters()) / 1e6:.2f} M parameters"
    )


def _epoch_line(record: dict, run: _Run, epoch: int, mixed: bool) -> str:
    """The one line printed per epoch."""
    parts = [f"epoch {epoch + 1}/{run.epochs}"]
    if epoch < run.warm:
        parts.append(f"GAN warm-up, no pose-net step ({record.get('fake_pairs', 0)} generated pairs)")
    else:
        parts.append(
            f"lr {record['lr']:.2e}  loss {record['train_loss']:.5f}  |grad| max {record['grad_norm_max']:.2f}"
        )
        if run.source is not None:
            n = record["fake_pairs"]
            if not n:  # e.g. PoseAug's pre-training epochs
                parts.append("real pairs only")
            elif mixed and n >= 2:
                parts.append(f"mixed into the real batches ({n} pairs)")
            else:
                parts.append(f"synthetic loss {record.get('fake_loss', float('nan')):.5f} ({n} pairs)")
    parts += [f"{k} {v:.4g}" for k, v in record.items() if k.startswith("gan/")]
    parts.append(f"{record['seconds']:.0f}s")
    parts += [f"{k} {v:.1f}" for k, v in record.items() if k.startswith("eval/")]
    return "  ".join(parts)
