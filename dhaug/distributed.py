"""Data-parallel training across processes: ``torchrun --nproc_per_node=N -m dhaug train ...``.

Each process (rank) trains on its own shard of the real pairs and draws its own synthetic pairs (its seed
offset by the rank); the pose net is wrapped in DistributedDataParallel; the augmenters' networks (the
DH-AUG GAN, PoseAug) average their gradients across ranks before every optimiser step (DDP cannot wrap
them: their gradient penalty differentiates through a backward pass). Rank 0 alone writes logs,
checkpoints and results. Without torchrun (no ``WORLD_SIZE`` > 1) every function here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .device import resolve_device


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job: ``rank`` of ``world`` processes (``world`` 1: not distributed)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def setup(device_setting: str) -> tuple[Ranks, torch.device | None]:
    """Join the process group that torchrun's environment describes (gloo on the CPU, NCCL on CUDA).
    Returns the ranks and, when distributed, this rank's device (``cuda:LOCAL_RANK`` or the CPU; None
    when not distributed: the config's device applies)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks(), None
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = resolve_device(device_setting).type == "cuda"  # a bad setting: one clear error
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Ranks(rank, world, local), device


def shard_rows(n: int, ranks: Ranks, seed: int) -> np.ndarray:
    """This rank's rows of an ``n``-row training set: an equal share of a fixed shuffle (``seed``), so
    every shard holds every subject; the last ``n mod world`` rows of the shuffle are left out."""
    order = np.random.default_rng(seed).permutation(n)
    per = n // ranks.world
    return np.sort(order[ranks.rank * per : (ranks.rank + 1) * per])


def wrap_pose_net(model: nn.Module, ranks: Ranks, device: torch.device) -> nn.Module:
    """The pose net as the training steps call it: DistributedDataParallel when distributed."""
    if not ranks.active:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def _flat_all_reduce(tensors: list[torch.Tensor], average: bool) -> None:
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    if average:
        flat /= dist.get_world_size()
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


def sync_source(source, ranks: Ranks) -> None:
    """Make a synthetic source's networks equal on every rank (rank 0's weights) and have each of its
    optimisers average the gradients across ranks before every step (``source.networks`` and
    ``source.optimizers``, :class:`~dhaug.augment.SyntheticSource`). No-op when not distributed."""
    if not ranks.active:
        return
    for net in source.networks.values():
        for t in list(net.parameters()) + list(net.buffers()):
            dist.broadcast(t.data, 0)

    def average(opt: torch.optim.Optimizer, args, kwargs) -> None:
        grads = [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]
        _flat_all_reduce(grads, average=True)

    for opt in source.optimizers.values():
        opt.register_step_pre_hook(average)


def common_steps(steps: int, ranks: Ranks) -> int:
    """The number of steps every rank can take (the smallest): collective calls must match."""
    if not ranks.active:
        return steps
    t = torch.tensor([steps], dtype=torch.int64)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t)


def gather(obj, ranks: Ranks) -> list:
    """Every rank's ``obj`` (a list on every rank); ``[obj]`` when not distributed."""
    if not ranks.active:
        return [obj]
    out = [None] * ranks.world
    dist.all_gather_object(out, obj)
    return out


def barrier(ranks: Ranks) -> None:
    if ranks.active:
        dist.barrier()


def teardown(ranks: Ranks) -> None:
    if ranks.active and dist.is_initialized():
        dist.destroy_process_group()
