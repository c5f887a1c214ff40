"""PoseAug's networks: the augmentor (BA, BL and RT heads, each with its own noise), the part-aware
KCS 3D discriminator and the pool of past fakes its discriminators see."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...precision import full_precision
from ...skeleton import bone_lengths
from ..common import root_in_camera
from .ops import BACKBONE, PARTS, bone_angle_change, bone_length_change, kcs, part_masks, rotation_from_axis_angle


def _head(d_in: int, d_out: int, width: int, stages: int) -> nn.Sequential:
    def bn_act(w: int) -> list[nn.Module]:
        return [nn.BatchNorm1d(w), nn.LeakyReLU()]

    layers: list[nn.Module] = [nn.Linear(d_in, width), *bn_act(width)]
    for _ in range(stages):
        layers += [nn.Linear(width, width), *bn_act(width), nn.Linear(width, width), *bn_act(width)]
    return nn.Sequential(*layers, nn.Linear(width, d_out))


def kaiming_init(module: nn.Module) -> None:
    """Kaiming-normal weights of every Linear layer (the release's initialisation); biases as torch's."""
    if isinstance(module, nn.Linear):
        nn.init.kaiming_normal_(module.weight)


class Augmentor(nn.Module):
    """PoseAug's augmentor: BA, BL and RT heads on the input pose, each with its own noise."""

    #: Noise vectors per pose: BA, BL, rotation, translation.
    NOISES = 4

    def __init__(
        self,
        width: int = 256,
        noise_dim: int = 48,
        stages: int = 2,
        blr_tanhlimit: float = 0.2,
        fix_backbone: bool = True,
        depth_range: tuple[float, float] = (2.5, 8.0),
        screen_margin: float = 0.7,
    ) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.blr_tanhlimit = blr_tanhlimit
        self.fixed = BACKBONE if fix_backbone else ()
        self.depth_range = tuple(depth_range)
        self.screen_margin = screen_margin
        self.ba = _head(48 + noise_dim, 45, width, stages)
        self.bl = _head(48 + 15 + noise_dim, 9, width, stages)
        self.rot = _head(48 + noise_dim, 3, width, stages)
        self.trans = _head(48 + noise_dim, 3, width, stages)

    def forward(self, pose: torch.Tensor, noise: torch.Tensor, K: torch.Tensor, aspect: torch.Tensor) -> dict:
        """Augment root-relative camera-frame poses (B, 16, 3) with noise (B, 4, noise_dim), seen by
        cameras of normalised intrinsics K (B, 9) and aspect h/w (B,).

        Returns ``ba`` and ``bl`` (B, 16, 3) root-relative poses after BA and after BA + BL, ``ba_diff``
        (B, 15) the ``1 - cos`` of each bone's change, ``blr`` (B, 15) the length ratios, ``cam`` (B, 16, 3)
        the final root-relative camera-frame pose, ``root`` (B, 3) its camera-frame pelvis, ``rotation``
        (B, 3) the axis-angle of RT.
        """
        x, dev = pose.flatten(1), pose.device
        residual = self.ba(torch.cat([x, noise[:, 0]], -1)).float().view(-1, 15, 3)
        with full_precision(dev):  # the geometry in float32 when the heads ran under autocast
            ba, ba_diff = bone_angle_change(pose, residual, self.fixed)
            lengths = bone_lengths(pose)
        raw = self.bl(torch.cat([x, lengths, noise[:, 1]], -1)).float()
        rot = self.rot(torch.cat([x, noise[:, 2]], -1)).float()
        t = self.trans(torch.cat([x, noise[:, 3]], -1)).float()
        with full_precision(dev):
            bl, blr = bone_length_change(ba, raw, self.blr_tanhlimit)
            r = math.pi * torch.tanh(rot)
            code = torch.cat([torch.tanh(t[:, :2]), torch.sigmoid(t[:, 2:])], -1)
            cam = bl @ rotation_from_axis_angle(r).transpose(-1, -2)
            root = root_in_camera(code, K, aspect, self.depth_range, self.screen_margin)
        return {"ba": ba, "ba_diff": ba_diff, "bl": bl, "blr": blr, "cam": cam, "root": root, "rotation": r}


class _KCSPath(nn.Module):
    def __init__(self, width: int, mid: int = 100) -> None:
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(225, width), nn.Linear(width, width), nn.Linear(width, width)
        self.last, self.pred = nn.Linear(width, mid), nn.Linear(mid, 1)
        self.act = nn.LeakyReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.act(self.l1(x))
        h3 = self.l3(self.act(self.l2(h1))) + h1
        return self.pred(self.act(self.last(h3)))[:, 0]


class PartKCSDiscriminator(nn.Module):
    """3D discriminator: poses (B, 16, 3) -> one score per part of :data:`PARTS` (B, P), each from its
    part's KCS (:func:`kcs`)."""

    def __init__(self, width: int = 256, mid: int = 100) -> None:
        super().__init__()
        self.register_buffer("masks", part_masks())
        self.paths = nn.ModuleList(_KCSPath(width, mid) for _ in PARTS)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        with full_precision(pose.device):  # the KCS in float32 when the paths run under autocast
            psi = kcs(pose, self.masks).flatten(-2)  # (B, P, 225)
        return torch.stack([p(psi[:, i]) for i, p in enumerate(self.paths)], -1)


class FakePool:
    """Up to ``size`` past fakes for the discriminator (module docstring); ``size`` = 0: no pool."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: torch.Tensor | None = None
        self.count = 0

    def __call__(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Fakes (n, ...) -> the fakes the discriminator sees (n, ...)."""
        if self.size == 0:
            return x
        if self.items is None:
            self.items = x.new_zeros(self.size, *x.shape[1:])
        out = x.clone()
        fill = min(len(x), self.size - self.count)
        self.items[self.count : self.count + fill] = x[:fill]
        self.count += fill
        rest = len(x) - fill
        if rest > 0:
            swap = (torch.rand(rest, generator=rng) < 0.5).to(x.device)
            slot = torch.randint(self.size, (rest,), generator=rng).to(x.device)
            rows = fill + torch.nonzero(swap)[:, 0]
            slot = slot[swap]
            out[rows] = self.items[slot]  # every swapped fake reads the pool as it was before this batch
            # two fakes drawn to one slot: the later one is stored (an index_put with repeated indices
            # writes in no fixed order across threads, which broke exact resume)
            order = torch.arange(len(slot), device=slot.device)
            last = torch.full((self.size,), -1, dtype=order.dtype, device=slot.device)
            last = last.scatter_reduce(0, slot, order, reduce="amax")
            keep = last[slot] == order
            self.items[slot[keep]] = x[rows[keep]]
        return out

    def state_dict(self) -> dict:
        return {"items": self.items, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.items, self.count = state["items"], state["count"]


__all__ = ["Augmentor", "FakePool", "PartKCSDiscriminator", "kaiming_init"]
