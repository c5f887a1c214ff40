"""DH-AUG video mode (method.md §6): a sequence generator and motion critics.

* :class:`VideoGenerator` — one noise vector per sequence -> per-frame DOF offsets, global rotation
  and camera-relative root for ``T`` frames (the single-frame trunk, a ``T``-times wider head; or,
  with ``temporal_basis`` K > 0, K cosine coefficients per output so every curve is smooth by
  construction — not in the paper, whose coherence comes only from the motion critics).
  Bone lengths come from the real sequence (constant in time) scaled once per sequence.
* :class:`MotionDiscriminator3D` — streams over the sequence's bone cosines, their frame-to-frame
  differences, the root-relative positions and their differences.
* :class:`MotionDiscriminator2D` — the 2D sequence and the frame-to-frame steps of the 2D root.
* :class:`VideoDHAugmenter` — the GAN pass over real windows: the single-frame critics on every
  frame (or on ``critic_frames`` random frames per sequence, ours), the motion critics on whole
  sequences (from ``motion_start`` on), the generator every
  ``n_critic`` iterations; its buffer holds ``T``-frame 2D windows with centre-frame 3D targets.

Fixed with respect to the original release (method.md §11): the motion critics see mirrored and
time-reversed real and fake sequences alike, and the generator's reversed terms are computed on
correctly reversed 3D sequences (the release reshaped them with the 2D feature size first); the
gradient penalty of both motion critics interpolates whole sequences per sample (the release's 2D
motion critic interpolated frame by frame).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..camera import project
from ..kinematics import BodyModel, forward_kinematics
from ..kinematics.limits import LimitTable
from ..skeleton import bone_lengths, mirror_pose
from .dhaug_gan import DHAugmenter, GANSettings
from .gan import BONE_PAIRS, Generator, _Res, _stream, bone_vectors, critic_loss, scale_bones, swap_bones


class VideoGenerator(Generator):
    """z (B, noise) -> per-frame DOFs (B, T, D), rotations (B, T, 3), root codes (B, T, 3)."""

    def __init__(self, body_model: BodyModel, limits: LimitTable, frames: int, width: int = 256, noise_dim: int = 128,
                 depth_range: tuple[float, float] = (2.5, 8.0), screen_margin: float = 0.7, temporal_basis: int = 0) -> None:
        super().__init__(body_model, limits, width, noise_dim, depth_range, screen_margin)
        self.frames = frames
        self.temporal_basis = temporal_basis
        if temporal_basis > 0:  # every output channel a sum of the K slowest cosines over the window (DCT-II)
            t, k = torch.arange(frames) + 0.5, torch.arange(temporal_basis)
            self.register_buffer("basis", torch.cos(torch.pi * k[:, None] * t[None, :] / frames))  # (K, T)
        self.head = nn.Linear(width, (temporal_basis or frames) * (len(self.lo) + 3))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, n = z.shape[0], self.frames, len(self.lo)
        out = self.head(self.trunk(z))
        if self.temporal_basis > 0:
            out = torch.einsum("bkc,kt->btc", out.reshape(B, self.temporal_basis, n + 3), self.basis)
        else:
            out = out.reshape(B, T, n + 3)
        angles = self.lo + (torch.tanh(out[..., :n]) + 1) / 2 * (self.hi - self.lo)
        root = torch.cat([torch.tanh(out[..., n:n + 2]), torch.sigmoid(out[..., n + 2:])], -1)
        nd = self.body_model.num_dofs
        return angles[..., :nd], angles[..., nd:], root

    def generate(self, z, bones, R, T, K, aspect) -> dict[str, torch.Tensor]:
        """Sequences seen by one camera each (R (B,3,3), T (B,3), K (B,9), aspect (B,)); bones (B, 15).
        Returns ``world``/``cam`` (B,T,16,3) root-relative, ``pose2d`` (B,T,16,2), ``root_cam`` (B,T,3)."""
        dofs, rot, code = self(z)
        B, F = dofs.shape[:2]
        world = forward_kinematics(self.body_model, dofs, bones[:, None].expand(B, F, -1), rot)
        root_cam = self.root_in_camera(code.reshape(B * F, 3), K.repeat_interleave(F, 0),
                                       aspect.repeat_interleave(F, 0)).reshape(B, F, 3)
        cam_rel = world @ R[:, None].transpose(-1, -2)
        pose2d = project(cam_rel + root_cam[:, :, None], K[:, None], clamp=False)
        return {"world": world, "cam": cam_rel, "pose2d": pose2d, "root_cam": root_cam, "dofs": dofs, "rotation": rot}


def _cosines(seq: torch.Tensor) -> torch.Tensor:
    """(B, T, 16, 3) -> (B, T, 15) cosines of the bone pairs of the 3D critic's kinematic stream."""
    b = bone_vectors(seq)
    u = b / torch.linalg.norm(b, dim=-1, keepdim=True).clamp_min(1e-8)
    i, j = zip(*BONE_PAIRS)
    return (u[..., list(i), :] * u[..., list(j), :]).sum(-1)


class _Merge(nn.Module):
    def __init__(self, streams: list[nn.Module], width: int) -> None:
        super().__init__()
        self.streams = nn.ModuleList(streams)
        self.merge = nn.Sequential(nn.Linear(len(streams) * width, 100), nn.ReLU(), _Res(100), nn.Linear(100, 1))

    def score(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return self.merge(torch.cat([s(x) for s, x in zip(self.streams, inputs)], -1))[:, 0]


class MotionDiscriminator3D(_Merge):
    """Root-relative world sequences (B, T, 16, 3) -> score."""

    def __init__(self, frames: int, width: int = 256) -> None:
        T = frames
        super().__init__([_stream(15 * T, width), _stream(15 * (T - 1), width), _stream(48 * T, width),
                          _stream(48 * (T - 1), width)], width)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        c = _cosines(seq)
        B = seq.shape[0]
        return self.score([c.reshape(B, -1), c.diff(dim=1).reshape(B, -1), seq.reshape(B, -1),
                           seq.diff(dim=1).reshape(B, -1)])


class MotionDiscriminator2D(_Merge):
    """Normalised 2D sequences (B, T, 16, 2) -> score, from the poses and the root's image steps."""

    def __init__(self, frames: int, width: int = 256) -> None:
        super().__init__([_stream(32 * frames, width), _stream(2 * (frames - 1), width)], width)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        B = seq.shape[0]
        return self.score([seq.reshape(B, -1), seq[:, :, 0].diff(dim=1).reshape(B, -1)])


def four_ways(seq: torch.Tensor) -> torch.Tensor:
    """(B, T, J, D) -> (4B, T, J, D): as is, mirrored, time-reversed, mirrored and reversed."""
    rev = seq.flip(1)
    return torch.cat([seq, mirror_pose(seq), rev, mirror_pose(rev)])


def joint_acceleration(seq: torch.Tensor) -> torch.Tensor:
    """(B, T, J, 3) -> (B,) mean joint acceleration ``|p[t+1] - 2 p[t] + p[t-1]|`` (units per frame^2)."""
    acc = seq[:, 2:] - 2 * seq[:, 1:-1] + seq[:, :-2]
    return torch.linalg.norm(acc, dim=-1).mean((1, 2))


class VideoDHAugmenter(DHAugmenter):
    """The DH-AUG GAN for ``frames``-frame sequences. ``fit_epoch`` takes real windows."""

    def __init__(self, cameras, templates, frames: int, body_model=None, limits=None, settings: GANSettings | None = None,
                 device="cpu", seed: int = 0, motion_width: int = 256, motion_start: int = 4,
                 temporal_basis: int = 0, critic_frames: int = 0) -> None:
        from ..kinematics import PAPER
        if not 0 <= critic_frames <= frames:
            raise ValueError(f"critic_frames = {critic_frames}: must be 0 (all) or 1..frames ({frames})")
        self.frames = frames
        self.critic_frames = critic_frames
        self.temporal_basis = temporal_basis
        super().__init__(cameras, templates, body_model or PAPER, limits, settings, device, seed)
        self.motion_start = motion_start
        self.MD3 = MotionDiscriminator3D(frames, motion_width).to(self.device)
        self.MD2 = MotionDiscriminator2D(frames, motion_width).to(self.device)
        self.opt_MD3 = torch.optim.Adam(self.MD3.parameters(), lr=self.s.lr, betas=self.s.betas)
        self.opt_MD2 = torch.optim.Adam(self.MD2.parameters(), lr=self.s.lr, betas=self.s.betas)
        self.epoch = 0

    def make_generator(self, body_model: BodyModel, limits: LimitTable) -> VideoGenerator:
        return VideoGenerator(body_model, limits, self.frames, self.s.gen_width, self.s.noise_dim,
                              temporal_basis=self.temporal_basis)

    def swap_real_windows(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor,
                          seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows (N,T,16,3) + roots (N,T,3): one bone template per *sequence*, one (zoomed) camera per
        window; returns root-relative world windows (N,T,16,3) and their 2D (N,T,16,2)."""
        N, T = real3d.shape[:2]
        _, inverse = torch.unique(seq, return_inverse=True)
        per_seq = self._randint(len(self.templates), int(inverse.max()) + 1)
        t = self.templates[per_seq[inverse]]
        cam3d = swap_bones(real3d.reshape(N * T, 16, 3), t.repeat_interleave(T, 0)).reshape(N, T, 16, 3)
        K = self.intrinsics(cam_index)
        pose2d = project(cam3d + real_root[:, :, None], K[:, None], clamp=False)
        world = cam3d @ self.cams.R[cam_index][:, None]
        return world, pose2d

    def _generate(self, n: int, bones: torch.Tensor, cam: torch.Tensor) -> dict:
        scaled = scale_bones(bones, self.s.bone_scale, self.rng) if self.s.bone_scale > 0 else bones
        c = self.cams
        return self.G.generate(self._noise(n), scaled, c.R[cam], c.T[cam], self.intrinsics(cam), c.aspect[cam])

    def _frames_for_critics(self, *seqs: torch.Tensor) -> list[torch.Tensor]:
        """Sequences (B, T, ...) -> the frames the single-frame critics see, (B*k, ...): all T frames,
        or ``critic_frames`` = k distinct frames drawn per sequence (the same draw for every input)."""
        B, T = seqs[0].shape[:2]
        if self.critic_frames in (0, T):
            return [s.reshape(-1, *s.shape[2:]) for s in seqs]
        k = self.critic_frames
        pick = torch.rand(B, T, generator=self.rng).argsort(1)[:, :k].to(self.device)
        rows = torch.arange(B, device=self.device)[:, None]
        return [s[rows, pick].reshape(-1, *s.shape[2:]) for s in seqs]

    def _motion_step(self, D, opt, real: torch.Tensor, fake: torch.Tensor) -> float:
        loss = critic_loss(D, four_ways(real), four_ways(fake), self.s.gp_lambda, self.rng)  # GP per whole sequence
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def valid(self, fake: dict) -> torch.Tensor:
        """Every frame in front of the camera and inside the image."""
        depth = (fake["cam"] + fake["root_cam"][:, :, None])[..., 2]
        uv = fake["pose2d"]
        return (depth >= self.s.min_depth).flatten(1).all(-1) & (uv[..., 0].abs() <= 1).flatten(1).all(-1) & \
               (uv[..., 1].abs() <= self.cams.aspect.max()).flatten(1).all(-1)

    def fit_epoch(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor, seq: torch.Tensor,
                  progress: bool = True, desc: str = "video GAN") -> dict:
        """One pass over real windows: camera-frame root-relative 3D (N,T,16,3), roots (N,T,3), the camera
        (N,) and sequence id (N,) of each window. Returns the fake buffer (2D windows, centre 3D), losses and
        the mean joint acceleration (mm per frame^2) of real and generated windows."""
        dev = self.device
        real3d, real_root, cam_index, seq = (t.to(dev) for t in (real3d, real_root, cam_index, seq))
        world, pose2d = self.swap_real_windows(real3d, real_root, cam_index, seq)
        bones_all = bone_lengths(world[:, 0])
        self._bones = bones_all
        motion = self.epoch >= self.motion_start
        n, B, T = len(world), min(self.s.batch_size, len(world)), self.frames
        perm = torch.randperm(n, generator=self.rng).to(dev)
        perm2d = torch.randperm(n, generator=self.rng).to(dev)
        buf2d, buf3d, acc = [], [], []
        logs = {k: [] for k in ("d3", "d2", "md3", "md2", "g")}
        for it in tqdm(range(n // B), desc=desc, leave=False, disable=not progress):
            idx = perm[it * B:(it + 1) * B]
            real_w, bones = world[idx], bones_all[idx]
            cam = self._randint(len(self.cams.R), 1).expand(B)
            real2d = pose2d[perm2d[it * B:(it + 1) * B]]
            with torch.no_grad():
                fake = self._generate(B, bones, cam)
            r3, f3 = self._frames_for_critics(real_w, fake["world"])
            r2, f2 = self._frames_for_critics(real2d, fake["pose2d"])
            logs["d3"].append(self._critic_step(self.D3, self.opt_D3, r3, f3, mirror_pose))
            logs["d2"].append(self._critic_step(self.D2, self.opt_D2, r2, f2, mirror_pose))
            if motion:
                logs["md3"].append(self._motion_step(self.MD3, self.opt_MD3, real_w, fake["world"]))
                logs["md2"].append(self._motion_step(self.MD2, self.opt_MD2, real2d, fake["pose2d"]))
            ok = self.valid(fake)
            buf2d.append(fake["pose2d"][ok])
            buf3d.append(fake["cam"][ok][:, T // 2])
            acc.append(joint_acceleration(fake["cam"]).mean())
            if self.iteration % self.s.n_critic == self.s.n_critic - 1:
                g = self._generate(B, bones, cam)
                g3, g2 = self._frames_for_critics(g["world"], g["pose2d"])
                adv = self.s.w3d * self.D3(g3).mean() + self.s.w2d * self.D2(g2).mean()
                if motion:
                    adv = adv + self.MD3(four_ways(g["world"])).mean() + self.MD2(four_ways(g["pose2d"])).mean()
                self.opt_G.zero_grad(set_to_none=True)
                (-adv).backward()
                self.opt_G.step()
                logs["g"].append(float(-adv.detach()))
            self.iteration += 1
        self.epoch += 1
        out = {k: float(np.mean(v)) if v else None for k, v in logs.items()}
        out["pose2d"] = torch.cat(buf2d) if buf2d else torch.zeros(0, T, 16, 2, device=dev)
        out["pose3d"] = torch.cat(buf3d) if buf3d else torch.zeros(0, 16, 3, device=dev)
        out["accel_fake_mm"] = 1000 * float(torch.stack(acc).mean()) if acc else None
        out["accel_real_mm"] = 1000 * float(joint_acceleration(real3d).mean())
        return out

    @torch.no_grad()
    def sample(self, n: int, bones: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fresh sequences: valid (2D windows (M,T,16,2), centre-frame 3D (M,16,3))."""
        if bones is None:
            src = self._bones if self._bones is not None else self.templates
            bones = src[self._randint(len(src), n)]
        fake = self._generate(n, bones, self._randint(len(self.cams.R), n))
        ok = self.valid(fake)
        return fake["pose2d"][ok], fake["cam"][ok][:, self.frames // 2]

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(MD3=self.MD3.state_dict(), MD2=self.MD2.state_dict(), opt_MD3=self.opt_MD3.state_dict(),
                     opt_MD2=self.opt_MD2.state_dict(), epoch=self.epoch)
        return state

    def load_state_dict(self, state: dict) -> None:
        import copy
        super().load_state_dict(state)
        motion = copy.deepcopy({k: state[k] for k in ("MD3", "MD2", "opt_MD3", "opt_MD2")})  # only what super() left
        for k, v in motion.items():
            getattr(self, k).load_state_dict(v)
        self.epoch = state["epoch"]
