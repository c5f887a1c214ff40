"""VideoPose3D temporal convolutional model (Pavllo et al., CVPR 2019).

One set of weights, two forms: *strided* (stride = filter width; the fast training form that
predicts one frame per receptive field) and *dilated* (dilation grows by the product of widths;
whole-sequence inference). With every width 1 it is the single-frame model of method.md §8.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import Dropout, pad_root


class TemporalConvNet(nn.Module):
    """(B, T, J, 2) -> (B, T - receptive_field + 1, J, 3); predicts J-1 joints, root = 0."""

    def __init__(
        self,
        num_joints: int = 16,
        filter_widths: tuple[int, ...] = (1, 1, 1, 1, 1),
        channels: int = 1024,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        for w in filter_widths:
            if w % 2 != 1:
                raise ValueError(f"filter widths must be odd, got {filter_widths}")
        self.num_joints = num_joints
        self.filter_widths = tuple(filter_widths)
        self.expand = nn.Conv1d(num_joints * 2, channels, filter_widths[0], bias=False)
        self.expand_bn = nn.BatchNorm1d(channels)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, w, bias=False) for w in filter_widths[1:])
        self.convs_bn = nn.ModuleList(nn.BatchNorm1d(channels) for _ in filter_widths[1:])
        self.pointwise = nn.ModuleList(nn.Conv1d(channels, channels, 1, bias=False) for _ in filter_widths[1:])
        self.pointwise_bn = nn.ModuleList(nn.BatchNorm1d(channels) for _ in filter_widths[1:])
        self.act = Dropout(dropout, relu=True)  # ReLU, then dropout
        self.shrink = nn.Conv1d(channels, (num_joints - 1) * 3, 1)

    @property
    def receptive_field(self) -> int:
        rf = 1
        for w in self.filter_widths:
            rf *= w
        return rf

    def forward(self, x: torch.Tensor, strided: bool = False) -> torch.Tensor:
        rf = self.receptive_field
        if (strided or rf == 1) and x.shape[1] % rf == 0:  # all widths 1: both forms are per-frame linear maps
            return self._forward_strided(x)
        return self._forward_conv(x, strided)

    def _forward_conv(self, x: torch.Tensor, strided: bool) -> torch.Tensor:
        """Both forms as 1D convolutions, (B, C, T) layout (the dilated form runs a whole sequence)."""
        B, T = x.shape[:2]
        h = x.reshape(B, T, -1).transpose(1, 2)  # (B, C, T)
        w0 = self.filter_widths[0]
        h = nn.functional.conv1d(h, self.expand.weight, stride=w0 if strided else 1)
        h = self.act(self.expand_bn(h))
        dilation = w0
        for i, w in enumerate(self.filter_widths[1:]):
            if strided:
                res = h[:, :, w // 2 :: w]
                h = nn.functional.conv1d(h, self.convs[i].weight, stride=w)
            else:
                pad = (w - 1) * dilation // 2
                res = h[:, :, pad : h.shape[2] - pad]
                h = nn.functional.conv1d(h, self.convs[i].weight, dilation=dilation)
            h = self.act(self.convs_bn[i](h))
            h = res + self.act(self.pointwise_bn[i](self.pointwise[i](h)))
            dilation *= w
        y = self.shrink(h).transpose(1, 2)  # (B, T', (J-1)*3)
        return pad_root(y.reshape(B, y.shape[1], self.num_joints - 1, 3))

    def _forward_strided(self, x: torch.Tensor) -> torch.Tensor:
        """The strided form as matrix products in (B, T, C) layout: a convolution whose stride is its
        width reads disjoint groups of ``w`` frames, i.e. a linear map of each group flattened. Same
        numbers as ``conv1d(stride=w)`` and several times faster on CPU (``benchmarks/throughput.py``).
        With every width 1 it is the single-frame model as plain matrix products."""
        B, T = x.shape[:2]
        lin = nn.functional.linear

        def grouped(h: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
            w = weight.shape[2]  # (O, C, w) -> (O, w*C), frame-major like h's groups; w = 1: a view (no copy back)
            flat = weight.flatten(1) if w == 1 else weight.permute(0, 2, 1).reshape(weight.shape[0], -1)
            return lin(h.reshape(B, h.shape[1] // w, -1), flat)

        def bn(layer: nn.BatchNorm1d, h: torch.Tensor) -> torch.Tensor:
            return layer(h.reshape(-1, h.shape[-1])).reshape(h.shape)

        h = self.act(bn(self.expand_bn, grouped(x.reshape(B, T, -1), self.expand.weight)))
        for i, w in enumerate(self.filter_widths[1:]):
            res = h if w == 1 else h[:, w // 2 :: w]  # w = 1: no slice (its backward would copy)
            h = self.act(bn(self.convs_bn[i], grouped(h, self.convs[i].weight)))
            h = res + self.act(bn(self.pointwise_bn[i], lin(h, self.pointwise[i].weight.flatten(1))))
        y = lin(h, self.shrink.weight.flatten(1), self.shrink.bias)  # (B, T', (J-1)*3)
        return pad_root(y.reshape(B, y.shape[1], self.num_joints - 1, 3))


class VideoPoseSingleFrame(nn.Module):
    """Single-frame VideoPose3D (all filter widths 1): (B, J, 2) -> (B, J, 3)."""

    def __init__(self, num_joints: int = 16, channels: int = 1024, stages: int = 4, dropout: float = 0.25) -> None:
        super().__init__()
        self.net = TemporalConvNet(num_joints, (1,) * (stages + 1), channels, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x[:, None])[:, 0]


def widths_for_frames(frames: int) -> tuple[int, ...]:
    """The VideoPose3D architecture for a receptive field: 9 -> (3, 3), 27 -> (3, 3, 3), 81 -> (3, 3, 3, 3)."""
    widths, rf = [], 1
    while rf < frames:
        widths.append(3)
        rf *= 3
    if rf != frames or frames < 3:
        raise ValueError(
            f"VideoPose3D receptive fields are powers of 3 (3, 9, 27, 81, 243); got {frames} frames "
            "(or give model.architecture explicitly)"
        )
    return tuple(widths)


class VideoPoseTemporal(nn.Module):
    """Multi-frame VideoPose3D: (B, T, J, 2) windows -> (B, J, 3) centre frames (strided form), and
    :meth:`forward_sequence` for whole sequences (dilated form, same weights)."""

    def __init__(
        self, filter_widths: tuple[int, ...], num_joints: int = 16, channels: int = 1024, dropout: float = 0.25
    ) -> None:
        super().__init__()
        self.net = TemporalConvNet(num_joints, tuple(filter_widths), channels, dropout)
        self.frames = self.net.receptive_field

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.frames:
            raise ValueError(f"expected windows of {self.frames} frames, got input of shape {tuple(x.shape)}")
        return self.net(x, strided=True)[:, 0]

    def forward_sequence(self, seq: torch.Tensor) -> torch.Tensor:
        """(L, J, 2) one whole sequence -> (L, J, 3), edges replicated: frame t sees the window around t."""
        h = (self.frames - 1) // 2
        padded = torch.cat([seq[:1].expand(h, -1, -1), seq, seq[-1:].expand(h, -1, -1)])
        return self.net(padded[None], strided=False)[0]
