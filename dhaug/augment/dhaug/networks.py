"""DH-AUG networks (method.md §3-§4): the DH generator (DOF offsets inside a limit table, global
rotation, a pelvis placed in front of its camera), the 3D critic (pose stream + kinematic stream) and the
WGAN-GP losses. The 2D critic is :class:`~dhaug.augment.common.Discriminator2D`."""

from __future__ import annotations

import torch
from torch import nn

from ...camera import project
from ...kinematics import BodyModel, forward_kinematics
from ...kinematics.limits import LimitTable
from ...precision import full_precision
from ..common import bone_vectors, root_in_camera

#: Pairs of bones (indices into kinematics.BONES, all pointing away from the pelvis) whose cosines form
#: the kinematic stream of the 3D discriminator, in method.md §4's order.
BONE_PAIRS = (
    (5, 4),
    (2, 1),
    (4, 3),
    (1, 0),
    (3, 0),
    (3, 6),
    (0, 6),
    (6, 7),
    (7, 8),
    (7, 9),
    (7, 12),
    (9, 10),
    (12, 13),
    (10, 11),
    (13, 14),
)


def bone_cosines(pose: torch.Tensor, with_lengths: bool = False):
    """Cosines of the :data:`BONE_PAIRS` angles, (..., 16, 3) -> (..., 15); ``with_lengths``: also the
    15 bone lengths (..., 15), computed once for both."""
    b = bone_vectors(pose)
    lengths = torch.linalg.norm(b, dim=-1)
    u = b / lengths[..., None].clamp_min(1e-8)
    i, j = zip(*BONE_PAIRS)
    cos = (u[..., list(i), :] * u[..., list(j), :]).sum(-1)
    return (cos, lengths) if with_lengths else cos


def kinematic_features(pose: torch.Tensor) -> torch.Tensor:
    """The 30-d kinematic vector: 15 adjacent-bone cosines and 15 bone lengths. (..., 16, 3) -> (..., 30)."""
    return torch.cat(bone_cosines(pose, with_lengths=True), -1)


class _Res(nn.Module):
    def __init__(self, w: int) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(w, w), nn.Linear(w, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.l2(torch.relu(self.l1(x))))


def _stream(d_in: int, w: int, blocks: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, w), nn.ReLU(), *[_Res(w) for _ in range(blocks)])


class Generator(nn.Module):
    """z (B, noise) -> DOF offsets, global rotation (radians, inside ``limits``) and a camera-relative root."""

    def __init__(
        self,
        body_model: BodyModel,
        limits: LimitTable,
        width: int = 256,
        noise_dim: int = 128,
        depth_range: tuple[float, float] = (2.5, 8.0),
        screen_margin: float = 0.7,
    ) -> None:
        super().__init__()
        self.body_model = body_model
        self.noise_dim = noise_dim
        lo, hi = limits.for_model(body_model)
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)
        self.depth_range = depth_range
        self.screen_margin = screen_margin
        self.trunk = nn.Sequential(nn.Linear(noise_dim, width), nn.ReLU(), *[_Res(width) for _ in range(3)])
        self.head = nn.Linear(width, len(lo) + 3)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (dofs (B, D), rotation (B, 3), root code (B, 3) in [-1, 1]^2 x [0, 1])."""
        out = self.head(self.trunk(z))
        n = len(self.lo)
        angles = self.lo + (torch.tanh(out[:, :n]) + 1) / 2 * (self.hi - self.lo)
        root = torch.cat([torch.tanh(out[:, n : n + 2]), torch.sigmoid(out[:, n + 2 : n + 3])], -1)
        nd = self.body_model.num_dofs
        return angles[:, :nd], angles[:, nd:], root

    def root_in_camera(self, code: torch.Tensor, K: torch.Tensor, aspect: torch.Tensor) -> torch.Tensor:
        """Camera-frame pelvis from the root code (:func:`root_in_camera` with this generator's ranges)."""
        return root_in_camera(code, K, aspect, self.depth_range, self.screen_margin)

    def generate(
        self,
        z: torch.Tensor,
        bones: torch.Tensor,
        R: torch.Tensor,
        T: torch.Tensor,
        K: torch.Tensor,
        aspect: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Poses seen by per-sample cameras (R (B,3,3), T (B,3), K (B,9), aspect (B,)).

        Returns ``world`` (B,16,3) root-relative world-frame poses (for D3), ``cam`` (B,16,3)
        root-relative camera-frame poses (pose-net targets), ``pose2d`` (B,16,2) and ``root_cam`` (B,3).
        """
        dofs, rot, code = (t.float() for t in self(z))
        with full_precision(z.device):  # the geometry in float32 when the network ran under autocast
            world = forward_kinematics(self.body_model, dofs, bones, rot)  # pelvis at the origin
            root_cam = self.root_in_camera(code, K, aspect)
            cam_rel = world @ R.transpose(-1, -2)  # rotate into the camera; translation is the root
            pose2d = project(cam_rel + root_cam[:, None], K, clamp=False)
        return {"world": world, "cam": cam_rel, "pose2d": pose2d, "root_cam": root_cam, "dofs": dofs, "rotation": rot}

    @torch.no_grad()
    def draw(self, n: int, cams, bones: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
        """``n`` generated poses (sequences for a video generator) from the noise of ``seed``, for
        pictures and measurements: draw i is seen by camera ``i mod C`` of ``cams`` (a
        :class:`~dhaug.augment.CameraSet`, their own intrinsics) with bone lengths row ``i mod S`` of
        ``bones`` (S, 15). Returns :meth:`generate`'s dict."""
        dev = self.lo.device
        b = bones.to(dev)[torch.arange(n, device=dev) % len(bones)]
        cam = torch.arange(n, device=dev) % len(cams.R)
        z = torch.randn(n, self.noise_dim, generator=torch.Generator().manual_seed(seed)).to(dev)
        return self.generate(z, b, cams.R[cam], cams.T[cam], cams.K[cam], cams.aspect[cam])


class Discriminator3D(nn.Module):
    """Root-relative world pose (B,16,3) -> score; a raw-pose stream and a kinematic stream."""

    def __init__(self, width: int = 256) -> None:
        super().__init__()
        self.pose = _stream(48, width)
        self.kin = _stream(30, width)
        self.merge = nn.Sequential(nn.Linear(2 * width, 100), nn.ReLU(), _Res(100), nn.Linear(100, 1))

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        h = torch.cat([self.pose(pose.flatten(1)), self.kin(kinematic_features(pose))], -1)
        return self.merge(h)[:, 0]


def gradient_penalty(
    D: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
    samples: int = 0,
) -> torch.Tensor:
    """WGAN-GP: E[(|grad D(x_hat)| - 1)^2], x_hat a per-sample uniform mix of the flattened poses.

    Args:
        D: the critic, (B, ...) -> (B,).
        real, fake: (B, ...) inputs of the critic.
        generator: the random generator of the mixing weights.
        samples: 0 = one x_hat per pair; n > 0 = x_hat of the first n pairs only.
    Returns:
        () the penalty, float32.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {tuple(real.shape)} and fake {tuple(fake.shape)} differ in shape")
    if samples < 0:
        raise ValueError(f"gradient_penalty: samples = {samples}, must be >= 0")
    if 0 < samples < len(real):
        real, fake = real[:samples], fake[:samples]
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), generator=generator, dtype=real.dtype).to(real.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).float().sum(), x, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


def critic_loss(
    D: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    gp_lambda: float = 10.0,
    generator: torch.Generator | None = None,
    gp_samples: int = 0,
) -> torch.Tensor:
    """``E[D(fake)] - E[D(real)] + lambda * GP`` (GP on ``gp_samples`` interpolates, 0 = all); the means in
    float32 when ``D`` runs under autocast."""
    wasserstein = D(fake).float().mean() - D(real).float().mean()
    return wasserstein + gp_lambda * gradient_penalty(D, real, fake, generator, gp_samples)


__all__ = [
    "BONE_PAIRS",
    "Discriminator3D",
    "Generator",
    "bone_cosines",
    "critic_loss",
    "gradient_penalty",
    "kinematic_features",
]
