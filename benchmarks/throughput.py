"""Data-pipeline throughput vs model throughput (samples/s), on CPU and on CUDA when present.

The training loop keeps the whole set on the device as two tensors and cuts batches by index
(``perm[i:i+B]``) plus the mirrored copy; this benchmark times exactly that path against one
training step of each backbone, and against a per-sample ``torch.utils.data.DataLoader`` (what
dhaug avoids), so the ratio shows the loader is not the bottleneck.

Multi-frame lifters (``--frames``): one training step on windows (MPJPE loss, as in training) of the
temporal VideoPose3D in the form training uses (strided, as matrix products over groups of frames)
against the same weights run as strided 1D convolutions (the form before), and PoseFormer.

Run from the repository root:  python benchmarks/throughput.py [--pairs 200000] [--batch 1024]
[--frames 9 27] [--window-batch 256]
"""

from __future__ import annotations

import argparse
import time

import torch
from common import machine, write
from torch import nn

from dhaug.config import ModelConfig, TrainConfig
from dhaug.device import keep_freed_memory
from dhaug.models import MODELS, build_model
from dhaug.optim import make_optimizer, train_step
from dhaug.precision import autocast, resolve_precision
from dhaug.skeleton import mirror_pose


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_it(fn, device, min_seconds=3.0, max_iters=200):
    fn()
    sync(device)
    n, t0 = 0, time.perf_counter()
    while n < max_iters and (time.perf_counter() - t0 < min_seconds or n < 3):
        fn()
        n += 1
    sync(device)
    return (time.perf_counter() - t0) / n


def bench_device(device: torch.device, pairs: int, batch: int, models=MODELS, emulated: bool = False) -> list[dict]:
    x = torch.randn(pairs, 16, 2, device=device)
    y = torch.randn(pairs, 16, 3, device=device)
    perm = torch.randperm(pairs, device=device)
    pos = {"i": 0}

    def loader_step():  # exactly the training loop's batching: index slice + mirrored copy
        i = pos["i"]
        idx = perm[i : i + batch]
        xb, yb = x[idx], y[idx]
        mirror_pose(xb), mirror_pose(yb)
        pos["i"] = (i + batch) % (pairs - batch)

    rows = [
        {
            "device": str(device),
            "what": "dhaug loader (index slices + mirror)",
            "samples_per_s": batch / time_it(loader_step, device),
        }
    ]

    if device.type == "cpu":
        ds = torch.utils.data.TensorDataset(x, y)
        dl = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True)
        it = {"it": iter(dl)}

        def dataloader_step():
            try:
                next(it["it"])
            except StopIteration:
                it["it"] = iter(dl)
                next(it["it"])

        rows.append(
            {
                "device": str(device),
                "what": "torch DataLoader, per-sample (for comparison)",
                "samples_per_s": batch / time_it(dataloader_step, device, 2.0, 20),
            }
        )

    for name in models:
        for prec in precisions(device, emulated):
            model = build_model(ModelConfig(name=name)).to(device).train()
            opt = make_optimizer(model, TrainConfig(lr=1e-4))
            xb, yb = x[:batch], y[:batch]
            dt = time_it(lambda: train_step(model, opt, xb, yb, 1.0, "mse", prec), device, 3.0, 50)
            rows.append(
                {
                    "device": str(device),
                    "what": f"{name} train step (batch {batch})",
                    "precision": precision_label(prec, device),
                    "samples_per_s": batch / dt,
                    "ms_per_step": 1e3 * dt,
                }
            )
    return rows


_MATMULS = ("mm.default", "addmm.default", "bmm.default")


def step_matmuls(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[tuple[str, tuple]]:
    """The matrix products of one training step (forward and backward) of ``model``: (op, operand shapes)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    log: list[tuple[str, tuple]] = []

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.__name__ if hasattr(func, "__name__") else str(func)
            if name in _MATMULS:
                mats = [a for a in args if isinstance(a, torch.Tensor) and a.ndim >= 2][-2:]
                log.append((name.split(".")[0], tuple(tuple(m.shape) for m in mats)))
            return func(*args, **(kwargs or {}))

    opt = make_optimizer(model, TrainConfig(lr=1e-4))
    with Log():
        train_step(model, opt, x, y, 1.0, "mse", "fp32")
    return log


def matmul_flops(log: list[tuple[str, tuple]]) -> float:
    total = 0.0
    for op, (a, b) in log:
        batch = a[0] if op == "bmm" else 1
        total += 2.0 * batch * a[-2] * a[-1] * b[-1]
    return total


def ceiling(log: list[tuple[str, tuple]], device: torch.device, prec: str) -> float:
    """FLOP/s of the step's own matrix products run back to back, nothing else (the ceiling a train step
    of that model could reach on this device in ``prec``: fp32, or bf16 operands)."""
    dtype = torch.bfloat16 if prec == "bf16" else torch.float32
    mats = [
        (op, torch.randn(a, device=device, dtype=dtype), torch.randn(b, device=device, dtype=dtype))
        for op, (a, b) in log
    ]

    def run():
        for op, a, b in mats:
            torch.bmm(a, b) if op == "bmm" else torch.mm(a, b)

    return matmul_flops(log) / time_it(run, device, 3.0, 50)


def bench_ceiling(
    device: torch.device, batch: int, models, emulated: bool = False, compiled: bool = False
) -> list[dict]:
    """Per backbone and precision: the matmul ceiling of its layer shapes and its train step as a share of it."""
    rows = []
    x, y = torch.randn(batch, 16, 2, device=device), torch.randn(batch, 16, 3, device=device)
    for name in models:
        log = step_matmuls(build_model(ModelConfig(name=name)).to(device).train(), x, y)
        flops = matmul_flops(log)
        for prec in precisions(device, emulated):
            model = build_model(ModelConfig(name=name)).to(device).train()
            opt = make_optimizer(model, TrainConfig(lr=1e-4))
            step = time_it(lambda: train_step(model, opt, x, y, 1.0, "mse", prec), device, 3.0, 50)
            top = ceiling(log, device, prec)
            rows.append(
                {
                    "device": str(device),
                    "model": name,
                    "precision": precision_label(prec, device),
                    "step_gflop": flops / 1e9,
                    "ceiling_gflops": top / 1e9,
                    "step_gflops": flops / step / 1e9,
                    "share": flops / step / top,
                    "samples_per_s": batch / step,
                }
            )
            if compiled:  # train.compile: the same step through torch.compile, and what compiling cost
                torch._dynamo.reset()
                model = build_model(ModelConfig(name=name)).to(device).train()
                fast, opt = torch.compile(model), make_optimizer(model, TrainConfig(lr=1e-4))
                t0 = time.perf_counter()
                train_step(fast, opt, x, y, 1.0, "mse", prec)
                sync(device)
                first = time.perf_counter() - t0
                step = time_it(lambda: train_step(fast, opt, x, y, 1.0, "mse", prec), device, 3.0, 50)
                rows.append(
                    {
                        **rows[-1],
                        "model": f"{name} (torch.compile; first step {first:.0f} s)",
                        "step_gflops": flops / step / 1e9,
                        "share": flops / step / top,
                        "samples_per_s": batch / step,
                        "compile_s": first,
                    }
                )
    return rows


def precisions(device: torch.device, emulated: bool = False) -> list[str]:
    """fp32, and bf16 where ``train.precision=auto`` would pick it (native bf16) or, with ``emulated``,
    everywhere (to show what a forced ``train.precision=bf16`` costs without it)."""
    return ["fp32"] + (["bf16"] if emulated or resolve_precision("auto", device) == "bf16" else [])


def precision_label(prec: str, device: torch.device) -> str:
    return prec + (" (emulated)" if prec == "bf16" and resolve_precision("auto", device) != "bf16" else "")


def bench_gan(device: torch.device, batch: int, iterations: int = 10, emulated: bool = False) -> list[dict]:
    """One DH-AUG GAN pass (critic steps with gradient penalty, mirrored, generator steps, FK) over
    ``iterations`` batches, in fp32 and with *everything* under bf16 autocast (the upper bound of
    what bf16 could give the GAN)."""
    from dhaug.augment import AugmentConfig, DHAugmenter
    from dhaug.camera import load_cameras
    from dhaug.config import GANConfig
    from dhaug.kinematics import PAPER, forward_kinematics
    from dhaug.kinematics.limits import paper_table
    from dhaug.skeleton import S1_BONE_LENGTHS

    n = batch * iterations
    g = torch.Generator().manual_seed(0)
    lo, hi = paper_table("normal").for_model(PAPER)
    bones = torch.tensor(S1_BONE_LENGTHS)
    v = lo + (hi - lo) * torch.rand(n, len(lo), generator=g) * 0.3
    world = forward_kinematics(PAPER, v[:, : PAPER.num_dofs], bones.expand(n, 15))
    cams = load_cameras()["S1"]
    ci = torch.randint(4, (n,), generator=g)
    R = torch.stack([torch.as_tensor(c.R, dtype=torch.float32) for c in cams])[ci]
    real3d, root = world @ R.transpose(-1, -2), torch.tensor([0.0, 0.0, 5.0]).expand(n, 3).clone()
    rows = []
    for prec in precisions(device, emulated):
        aug = DHAugmenter(
            cams, bones[None], PAPER, settings=AugmentConfig(gan=GANConfig(batch_size=batch)), device=device, seed=0
        )
        with autocast(prec, device):
            dt = time_it(lambda: aug.fit_epoch(real3d, root, ci, progress=False), device, 3.0, 5)
        rows.append(
            {
                "device": str(device),
                "what": f"DH-AUG GAN pass, {iterations} iterations (batch {batch})",
                "precision": precision_label(prec, device),
                "samples_per_s": n / dt,
                "ms_per_step": 1e3 * dt / iterations,
            }
        )
    return rows


class _ConvForm(nn.Module):
    """A temporal VideoPose3D run as strided convolutions (the reference form), same weights."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.net._forward_conv(x, strided=True)[:, 0]


def bench_windows(device: torch.device, frames_list: list[int], batch: int, emulated: bool = False) -> list[dict]:
    rows = []
    for frames in frames_list:
        x = torch.randn(batch, frames, 16, 2, device=device)
        y = torch.randn(batch, 16, 3, device=device)
        vpose = build_model(ModelConfig(name="videopose", frames=frames)).to(device).train()
        variants = [("videopose, matrix form (used)", vpose), ("videopose, strided convolutions", _ConvForm(vpose))]
        if frames <= 27:
            variants.append(
                ("poseformer", build_model(ModelConfig(name="poseformer", frames=frames)).to(device).train())
            )
        for label, model in variants:
            for prec in precisions(device, emulated):
                opt = make_optimizer(model, TrainConfig(lr=1e-4))
                dt = time_it(lambda: train_step(model, opt, x, y, 1.0, "mpjpe", prec), device, 3.0, 30)
                rows.append(
                    {
                        "device": str(device),
                        "what": f"{label}, {frames}-frame windows, train step (batch {batch})",
                        "precision": precision_label(prec, device),
                        "samples_per_s": batch / dt,
                        "ms_per_step": 1e3 * dt,
                    }
                )
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--frames", type=int, nargs="*", default=[9, 27], help="window lengths of the multi-frame rows")
    ap.add_argument("--window-batch", type=int, default=256)
    ap.add_argument("--models", nargs="+", default=list(MODELS), help="backbones of the single-frame rows")
    ap.add_argument("--no-gan", action="store_true", help="skip the GAN pass rows")
    ap.add_argument("--limit-models", nargs="+", help="backbones of the train-step-vs-limit rows (default: --models)")
    ap.add_argument("--compile", action="store_true", help="also time those train steps through torch.compile")
    ap.add_argument(
        "--stem",
        default="throughput",
        help="results file name under benchmarks/results/ (a partial "
        "run: give another stem, so the full table is kept)",
    )
    ap.add_argument(
        "--emulated-bf16",
        action="store_true",
        help="also time bf16 where the CPU has no native bf16 (rows marked 'emulated': what a forced "
        "train.precision=bf16 costs there)",
    )
    a = ap.parse_args()
    keep_freed_memory()  # as dhaug train does
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    em = a.emulated_bf16
    rows = [
        r
        for d in devices
        for r in bench_device(d, a.pairs, a.batch, a.models, em)
        + ([] if a.no_gan else bench_gan(d, a.batch, emulated=em))
        + bench_windows(d, a.frames, a.window_batch, em)
    ]
    md = [
        "# Data pipeline vs model throughput",
        "",
        f"{a.pairs} random pairs held as device tensors, batch {a.batch}. A training step with flip augmentation "
        "does two model steps per loaded batch; a window batch does four (mirrored, time-reversed, both).",
        "",
        "| device | what | precision | samples/s | ms per step |",
        "|---|---|---|---|---|",
    ]
    md += [
        f"| {r['device']} | {r['what']} | {r.get('precision', '')} | {r['samples_per_s']:,.0f} | "
        f"{format(r['ms_per_step'], '.1f') if 'ms_per_step' in r else ''} |"
        for r in rows
    ]
    limit = [r for d in devices for r in bench_ceiling(d, a.batch, a.limit_models or a.models, em, a.compile)]
    md += [
        "",
        "## Train step against the limit",
        "",
        f"The limit: the step's own matrix products (forward and backward, logged from one step; batch {a.batch}) "
        "run back to back with nothing else, in the same precision. The share is the step's matmul FLOPs per "
        "second of a whole training step (loss, BatchNorm, dropout, optimiser and all) over that limit.",
        "",
        "| device | model | precision | GFLOP per step (matmuls) | limit GFLOP/s | step GFLOP/s | share of the limit | samples/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['device']} | {r['model']} | {r['precision']} | {r['step_gflop']:.1f} | {r['ceiling_gflops']:.0f} | "
        f"{r['step_gflops']:.0f} | {100 * r['share']:.0f} % | {r['samples_per_s']:,.0f} |"
        for r in limit
    ]
    md += ["", f"Machine: {machine()}"]
    write(
        a.stem,
        {
            "machine": machine(),
            "pairs": a.pairs,
            "batch": a.batch,
            "window_batch": a.window_batch,
            "rows": rows,
            "limit": limit,
        },
        "\n".join(md) + "\n",
    )
