"""What the DH-AUG and PoseAug GANs share: networks and their Adam optimisers held in dicts by name,
one optimiser step, the LR of them all, a seeded random generator and counters, exact checkpoint
state, and the end of a pass (the kept pairs concatenated and masked once, the logs read back once);
and the training-loop source around such a trainer."""

from __future__ import annotations

import copy

import torch
from torch import nn

from .protocol import Source


class AdversarialTrainer:
    """Base of a GAN-like trainer. ``nets``: name -> module (moved to ``device``); each gets an Adam
    optimiser with ``adam`` keyword arguments. ``self.G`` etc. name the networks. State keys: each net's
    name, ``opt_<name>``, ``rng``, ``iteration``, ``epoch`` and those of :meth:`extra_state`."""

    def __init__(self, nets: dict[str, nn.Module], device, seed: int, **adam) -> None:
        self.device = torch.device(device)
        self.nets = {k: net.to(self.device) for k, net in nets.items()}
        self.opts: dict[str, torch.optim.Optimizer] = {
            k: torch.optim.Adam(net.parameters(), **adam) for k, net in self.nets.items()
        }
        self.rng = torch.Generator(device="cpu").manual_seed(seed)
        self.iteration = 0
        self.epoch = 0

    def __getattr__(self, name: str):  # the networks by name: self.G is self.nets["G"]
        nets = self.__dict__.get("nets", {})
        if name in nets:
            return nets[name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def set_lr(self, lr: float) -> None:
        """Every optimiser's learning rate."""
        for opt in self.opts.values():
            for group in opt.param_groups:
                group["lr"] = lr

    def step(self, name: str, loss: torch.Tensor, clip: float | None = None) -> None:
        """One optimiser step of network ``name`` on ``loss`` (its gradient norm clipped to ``clip``)."""
        opt = self.opts[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(self.nets[name].parameters(), clip)
        opt.step()

    @staticmethod
    def kept(buffer: list[tuple[torch.Tensor, ...]]) -> list[torch.Tensor]:
        """Batches ``(a, b, ..., mask)`` of a pass -> ``[cat(a)[mask], cat(b)[mask], ...]`` (one mask, once)."""
        ok = torch.cat([b[-1] for b in buffer])
        return [torch.cat([b[i] for b in buffer])[ok] for i in range(len(buffer[0]) - 1)]

    @staticmethod
    def read_logs(logs: dict[str, list[torch.Tensor]]) -> dict[str, float | None]:
        """Mean of each list of device scalars, read back once per pass (None: an empty list)."""
        return {k: float(torch.stack(v).double().mean()) if v else None for k, v in logs.items()}

    # --- checkpointing ------------------------------------------------------------------------------
    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def state_dict(self) -> dict:
        state: dict = {k: net.state_dict() for k, net in self.nets.items()}
        state.update({f"opt_{k}": opt.state_dict() for k, opt in self.opts.items()})
        return {
            **state,
            **self.extra_state(),
            "rng": self.rng.get_state(),
            "iteration": self.iteration,
            "epoch": self.epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        state = copy.deepcopy(state)  # optimisers keep references to the tensors they are given
        for k, net in self.nets.items():
            net.load_state_dict(state[k])
            self.opts[k].load_state_dict(state[f"opt_{k}"])
        self.load_extra_state(state)
        self.rng.set_state(state["rng"].cpu())  # a checkpoint loaded with map_location="cuda"
        self.iteration = state["iteration"]
        self.epoch = state.get("epoch", 0)  # single-frame DH-AUG states written before the epoch was kept


class AdversarialSource(Source):
    """A training-loop source around an :class:`AdversarialTrainer` ``self.aug``: its networks and
    optimisers (synchronised under torchrun) and its state are the trainer's."""

    aug: AdversarialTrainer

    @property
    def networks(self) -> dict[str, nn.Module]:
        return self.aug.nets

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self.aug.opts

    def state_dict(self) -> dict:
        return self.aug.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.aug.load_state_dict(state)


__all__ = ["AdversarialSource", "AdversarialTrainer"]
