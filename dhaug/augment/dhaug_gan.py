"""``DHAugmenter``: the DH-AUG GAN pass (method.md §3-§6) as an object usable from any training loop,
for single frames (``frames`` = 1) and for ``frames``-frame sequences (the video mode) alike.

    aug = DHAugmenter(cameras, templates)                  # training cameras, (S, 15) bone templates
    buffer = aug.fit_epoch(real3d, real_root, cam_index)   # one GAN pass; returns that epoch's fakes
    pose2d, pose3d = aug.sample(1024)                      # fresh (2D, 3D) pairs at any time

Per GAN pass: the real poses (windows) get the bone lengths of a random template (one per sequence;
directions kept) and are re-projected by their own cameras; these swapped pairs are the "real" data
of the critics and the bone-length source of the generator. Batches of B: a 3D-critic step (and one
on the mirrored poses), one camera for the batch, a 2D-critic step against an independently shuffled
real 2D batch (and mirrored); for sequences also the motion critics on mirrored and time-reversed
sequences (from GAN epoch ``motion_start``); every ``n_critic``-th iteration a generator step. The
critic-step fakes (in front of the camera, on screen) form the epoch's fake buffer. A single frame is
a one-frame sequence: every tensor carries a time axis of length T inside the pass.

Settings are the experiment's :class:`~dhaug.config.AugmentConfig` (one schema for the library and
the command line).
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from ..camera import Camera, project, random_focals, with_focal
from ..config import AugmentConfig
from ..kinematics import PAPER, BodyModel
from ..kinematics.limits import LimitTable, paper_table
from ..precision import autocast, full_precision, resolve_precision
from ..progress import progress_bar
from ..skeleton import bone_lengths, mirror_pose
from ..timing import section
from .basis import temporal_basis
from .gan import Discriminator2D, Discriminator3D, Generator, critic_loss, scale_bones, swap_bones
from .random_dh import CameraSet
from .video_gan import MotionDiscriminator2D, MotionDiscriminator3D, VideoGenerator, four_ways, joint_acceleration

#: GAN batch size of a DHAugmenter whose settings leave ``gan_batch_size`` at 0.
DEFAULT_BATCH = 1024


class DHAugmenter:
    """The DH-AUG GAN over ``cameras`` with bone ``templates`` (S, 15); ``frames`` > 1: the video GAN."""

    def __init__(self, cameras: list[Camera], templates: torch.Tensor, body_model: BodyModel = PAPER,
                 limits: LimitTable | None = None, settings: AugmentConfig | None = None, device="cpu", seed: int = 0,
                 frames: int = 1):
        self.s = settings or AugmentConfig()
        if not 0 <= self.s.critic_frames <= frames:
            raise ValueError(f"critic_frames = {self.s.critic_frames}: must be 0 (all) or 1..frames ({frames})")
        self.frames = frames
        self.batch_size = self.s.gan_batch_size or DEFAULT_BATCH
        self.device = torch.device(device)
        self.cams = CameraSet.from_cameras(cameras)
        self.cams = CameraSet(*(t.to(self.device) for t in (self.cams.R, self.cams.T, self.cams.K, self.cams.aspect)))
        self.templates = torch.as_tensor(templates, dtype=torch.float32, device=self.device)
        limits = limits or paper_table("gan")
        if frames == 1:
            self.G = Generator(body_model, limits, self.s.gen_width, self.s.noise_dim)
        else:
            self.G = VideoGenerator(body_model, limits, frames, self.s.gen_width, self.s.noise_dim,
                                    temporal_basis=temporal_basis(self.s.temporal_basis, frames))
        self.G = self.G.to(self.device)
        self.D3 = Discriminator3D(self.s.d3_width).to(self.device)
        self.D2 = Discriminator2D(self.s.d2_width).to(self.device)
        self.nets = ["G", "D3", "D2"]
        if frames > 1:
            self.MD3 = MotionDiscriminator3D(frames, self.s.motion_width).to(self.device)
            self.MD2 = MotionDiscriminator2D(frames, self.s.motion_width).to(self.device)
            self.nets += ["MD3", "MD2"]
        for k in self.nets:
            setattr(self, f"opt_{k}", torch.optim.Adam(getattr(self, k).parameters(), lr=self.s.gan_lr,
                                                      betas=tuple(self.s.betas)))
        self.rng = torch.Generator(device="cpu").manual_seed(seed)
        self.precision = resolve_precision(self.s.gan_precision, self.device)
        self.iteration = 0
        self.epoch = 0
        self._bones: torch.Tensor | None = None  # bone lengths of the last swapped real set (for sample())

    # --- helpers -------------------------------------------------------------------------------
    def _randint(self, high: int, n: int) -> torch.Tensor:
        return torch.randint(high, (n,), generator=self.rng).to(self.device)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.s.noise_dim, generator=self.rng).to(self.device)

    def intrinsics(self, cam: torch.Tensor) -> torch.Tensor:
        """(B, 9) normalised intrinsics of cameras ``cam`` (B,), zoomed to random fields of view if set."""
        K = self.cams.K[cam]
        if self.s.fov_range_deg is None:
            return K
        return with_focal(K, random_focals(len(cam), tuple(self.s.fov_range_deg), self.rng).to(K))

    def swap_real(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor,
                  seq: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows (N,T,16,3) + roots (N,T,3): one bone template per *sequence* ``seq`` (N,), one (zoomed)
        camera per window; returns root-relative world windows (N,T,16,3) and their 2D (N,T,16,2).
        Single poses (N,16,3) + (N,3), each its own sequence: (N,16,3) and (N,16,2)."""
        if real3d.ndim == 3:
            world, pose2d = self.swap_real(real3d[:, None], real_root[:, None], cam_index,
                                           torch.arange(len(real3d), device=real3d.device))
            return world[:, 0], pose2d[:, 0]
        N, T = real3d.shape[:2]
        _, inverse = torch.unique(seq, return_inverse=True)
        per_seq = self._randint(len(self.templates), int(inverse.max()) + 1)
        t = self.templates[per_seq[inverse]]
        cam3d = swap_bones(real3d.reshape(N * T, 16, 3), t.repeat_interleave(T, 0)).reshape(N, T, 16, 3)
        K = self.intrinsics(cam_index)
        pose2d = project(cam3d + real_root[:, :, None], K[:, None], clamp=False)
        world = (cam3d.reshape(N, T * 16, 3) @ self.cams.R[cam_index]).reshape(N, T, 16, 3)  # X_w = R^T X_c
        return world, pose2d

    def _generate(self, n: int, bones: torch.Tensor, cam: torch.Tensor) -> dict:
        """The generator's output with a time axis: ``world``/``cam`` (n,T,16,3), ``pose2d`` (n,T,16,2),
        ``root_cam`` (n,T,3)."""
        scaled = scale_bones(bones, self.s.bone_scale, self.rng) if self.s.bone_scale > 0 else bones
        c = self.cams
        out = self.G.generate(self._noise(n), scaled, c.R[cam], c.T[cam], self.intrinsics(cam), c.aspect[cam])
        if self.frames == 1:
            out = {k: v[:, None] for k, v in out.items()}
        return out

    def _frames_for_critics(self, *seqs: torch.Tensor) -> list[torch.Tensor]:
        """Sequences (B, T, ...) -> the frames the single-frame critics see, (B*k, ...): all T frames,
        or ``critic_frames`` = k distinct frames drawn per sequence (the same draw for every input)."""
        B, T = seqs[0].shape[:2]
        if self.s.critic_frames in (0, T):
            return [s.reshape(-1, *s.shape[2:]) for s in seqs]
        k = self.s.critic_frames
        pick = torch.rand(B, T, generator=self.rng).argsort(1)[:, :k].to(self.device)
        rows = torch.arange(B, device=self.device)[:, None]
        return [s[rows, pick].reshape(-1, *s.shape[2:]) for s in seqs]

    def _critic_step(self, D, opt, real, fake, mirror_fn=mirror_pose, mirror: bool | None = None) -> torch.Tensor:
        """One WGAN-GP step of critic ``D`` (and one on ``mirror_fn`` of the inputs when mirroring); returns
        the detached loss of the first (a device tensor: no host synchronisation per step)."""
        loss = critic_loss(D, real, fake, self.s.gp_lambda, self.rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if self.s.mirror if mirror is None else mirror:
            loss_m = critic_loss(D, mirror_fn(real), mirror_fn(fake), self.s.gp_lambda, self.rng)
            opt.zero_grad(set_to_none=True)
            loss_m.backward()
            opt.step()
        return loss.detach()

    def _generator_step(self, B: int, bones: torch.Tensor, cam: torch.Tensor, motion: bool) -> torch.Tensor:
        """One generator step against the critics; returns its detached loss."""
        g = self._generate(B, bones, cam)
        g3, g2 = self._frames_for_critics(g["world"], g["pose2d"])
        # mirrored adversarial terms would be detached in the original (no gradient): left out
        adv = self.s.w3d * self.D3(g3).mean() + self.s.w2d * self.D2(g2).mean()
        if motion:
            adv = adv + self.MD3(four_ways(g["world"])).mean() + self.MD2(four_ways(g["pose2d"])).mean()
        self.opt_G.zero_grad(set_to_none=True)
        (-adv).backward()
        self.opt_G.step()
        return -adv.detach()

    def valid(self, fake: dict) -> torch.Tensor:
        """(n,) every frame in front of the camera (joints deeper than ``min_depth``) and inside the image."""
        depth = (fake["cam"] + fake["root_cam"][:, :, None])[..., 2]
        uv = fake["pose2d"]
        return (depth >= self.s.min_depth).flatten(1).all(-1) & (uv[..., 0].abs() <= 1).flatten(1).all(-1) & \
               (uv[..., 1].abs() <= self.cams.aspect.max()).flatten(1).all(-1)

    def _single(self, pose2d: torch.Tensor, cam3d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pairs from windows: 2D (M,T,16,2) -> (M,16,2) when T = 1; 3D: the centre frame."""
        return (pose2d[:, 0] if self.frames == 1 else pose2d), cam3d[:, self.frames // 2]

    # --- the GAN pass ----------------------------------------------------------------------------
    def fit_epoch(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor,
                  seq: torch.Tensor | None = None, progress: bool = True, desc: str = "GAN") -> dict:
        """One GAN pass over the real set: camera-frame root-relative 3D (N,16,3) — windows (N,T,16,3) —,
        camera-frame roots (N,3) — (N,T,3) —, the camera (N,) and, for windows, the sequence id (N,) of
        each. Returns the epoch's fake buffer (``pose2d`` (M,16,2) — 2D windows (M,T,16,2) — and
        ``pose3d`` (M,16,3), the centre frame), mean losses and, for windows, the mean joint acceleration
        (mm per frame^2) of real and generated windows.

        The networks' forward passes run under ``gan_precision``."""
        with autocast(self.precision, self.device):
            return self._fit_epoch(real3d, real_root, cam_index, seq=seq, progress=progress, desc=desc)

    def _fit_epoch(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor,
                   seq: torch.Tensor | None = None, progress: bool = True, desc: str = "GAN") -> dict:
        dev, T = self.device, self.frames
        if T == 1:  # a single frame is a one-frame window; every pose its own sequence
            real3d, real_root = real3d[:, None], real_root[:, None]
            seq = torch.arange(len(real3d))
        elif seq is None:
            raise ValueError("fit_epoch on windows needs the sequence id of every window (seq)")
        real3d, real_root, cam_index, seq = (t.to(dev) for t in (real3d, real_root, cam_index, seq))
        with section("gan/real_pairs"), full_precision(dev):
            world, pose2d = self.swap_real(real3d, real_root, cam_index, seq)
            bones_all = bone_lengths(world[:, 0])
        self._bones = bones_all
        motion = T > 1 and self.epoch >= self.s.motion_start
        n, B = len(world), min(self.batch_size, len(world))
        perm = torch.randperm(n, generator=self.rng).to(dev)
        perm2d = torch.randperm(n, generator=self.rng).to(dev)
        buf, acc = [], []
        logs = {k: [] for k in ("d3", "d2", "g") + (("md3", "md2") if T > 1 else ())}
        for it in progress_bar(range(n // B), desc=desc, unit="batch", enabled=progress):
            idx = perm[it * B:(it + 1) * B]
            real_w, bones = world[idx], bones_all[idx]
            cam = self._randint(len(self.cams.R), 1).expand(B)  # one camera for the whole batch
            real2d = pose2d[perm2d[it * B:(it + 1) * B]]
            with section("gan/generate"), torch.no_grad():
                fake = self._generate(B, bones, cam)
            with section("gan/critics"):
                r3, f3 = self._frames_for_critics(real_w, fake["world"])
                r2, f2 = self._frames_for_critics(real2d, fake["pose2d"])
                logs["d3"].append(self._critic_step(self.D3, self.opt_D3, r3, f3))
                logs["d2"].append(self._critic_step(self.D2, self.opt_D2, r2, f2))
                if motion:  # four_ways already mirrors and reverses: one step, gradient penalty per whole sequence
                    logs["md3"].append(self._critic_step(self.MD3, self.opt_MD3, four_ways(real_w),
                                                         four_ways(fake["world"]), mirror=False))
                    logs["md2"].append(self._critic_step(self.MD2, self.opt_MD2, four_ways(real2d),
                                                         four_ways(fake["pose2d"]), mirror=False))
            with section("gan/buffer"):
                buf.append((fake["pose2d"], fake["cam"], self.valid(fake)))  # masked once after the pass
            if T > 2:
                acc.append(joint_acceleration(fake["cam"]).mean())
            if self.iteration % self.s.n_critic == self.s.n_critic - 1:
                with section("gan/generator_step"):
                    logs["g"].append(self._generator_step(B, bones, cam, motion))
            self.iteration += 1
        self.epoch += 1
        # None: no step of that kind; one read-back per pass
        out = {k: float(np.mean(torch.stack(v).double().cpu().numpy())) if v else None for k, v in logs.items()}
        if buf:
            ok = torch.cat([b[2] for b in buf])
            x, y = self._single(torch.cat([b[0] for b in buf])[ok], torch.cat([b[1] for b in buf])[ok])
        else:
            x, y = torch.zeros((0, 16, 2) if T == 1 else (0, T, 16, 2), device=dev), torch.zeros(0, 16, 3, device=dev)
        out["pose2d"], out["pose3d"] = x, y
        if T > 2:
            out["accel_fake_mm"] = 1000 * float(torch.stack(acc).mean()) if acc else None
            out["accel_real_mm"] = 1000 * float(joint_acceleration(real3d).mean())
        return out

    @torch.no_grad()
    def sample(self, n: int, bones: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` draws from random cameras, valid ones only: (normalised 2D (M,16,2) — windows
        (M,T,16,2) —, root-relative camera 3D (M,16,3) of the centre frame)."""
        if bones is None:
            src = self._bones if self._bones is not None else self.templates
            bones = src[self._randint(len(src), n)]
        fake = self._generate(n, bones, self._randint(len(self.cams.R), n))
        ok = self.valid(fake)
        return self._single(fake["pose2d"][ok], fake["cam"][ok])

    # --- checkpointing ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {k: getattr(self, k).state_dict() for k in self.nets}
        state.update({f"opt_{k}": getattr(self, f"opt_{k}").state_dict() for k in self.nets})
        return {**state, "rng": self.rng.get_state(), "iteration": self.iteration, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        state = copy.deepcopy(state)  # optimizers keep references to the tensors they are given
        for k in self.nets:
            getattr(self, k).load_state_dict(state[k])
            getattr(self, f"opt_{k}").load_state_dict(state[f"opt_{k}"])
        self.rng.set_state(state["rng"].cpu())  # a checkpoint loaded with map_location="cuda"
        self.iteration = state["iteration"]
        self.epoch = state.get("epoch", 0)  # single-frame states written before the epoch was kept
