"""Numeric precision of training steps: bf16 autocast where the hardware computes it natively.

``train.precision``: ``fp32`` (plain float32), ``bf16`` (forward passes under bfloat16 autocast;
weights, optimiser state, losses and gradients stay float32, so no loss scaling is needed) or
``auto`` (bf16 on CUDA devices that support it and on CPUs with native bf16 instructions —
AVX-512 BF16 or AMX —, fp32 elsewhere). Evaluation always runs in float32, so reported errors do
not depend on the training precision's rounding of the outputs.
"""

from __future__ import annotations

import contextlib

import torch

from .config import PRECISIONS
from .errors import ConfigError


def cpu_has_native_bf16() -> bool:
    """True when this CPU has bf16 dot-product instructions (AVX-512 BF16 or AMX tiles)."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, n, None) for n in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(f()) for f in checks if f is not None)


def resolve_precision(setting: str, device: torch.device) -> str:
    """``auto | fp32 | bf16`` on ``device`` -> ``fp32`` or ``bf16``."""
    if setting not in PRECISIONS:
        raise ConfigError(f"train.precision must be one of {', '.join(PRECISIONS)}, got {setting!r}")
    if setting != "auto":
        if setting == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError(
                f"train.precision = 'bf16' but {torch.cuda.get_device_name(device)} has no bf16; use fp32"
            )
        return setting
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return "fp32"


def precision_note(precision: str, device: torch.device) -> str | None:
    """A warning when ``precision`` (resolved) is bf16 on a CPU without native bf16, where autocast
    emulates it (measured on a 2-core AVX2 EPYC: a VideoPose-1f train step 25x slower than fp32,
    benchmarks/results/throughput_avx2.md); None otherwise."""
    if precision == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        return (
            "train.precision = 'bf16' on a CPU without native bf16 (no AVX-512 BF16 or AMX): autocast emulates "
            "it, many times slower than fp32; train.precision = auto picks fp32 here"
        )
    return None


def autocast(precision: str, device: torch.device):
    """A context for forward passes: bf16 autocast when ``precision == 'bf16'``, else nothing."""
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def enable_tf32(device: torch.device) -> None:
    """On CUDA, let what stays float32 under bf16 training use TF32 tensor cores (a process-wide
    switch of torch's, set by the training entry point only)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def full_precision(device: torch.device):
    """A context that turns autocast off (geometry inside an autocast network pass stays float32)."""
    return torch.autocast(device_type=device.type, enabled=False)
