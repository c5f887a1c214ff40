"""The DH-AUG GAN pass (method.md §3-§6) as an object usable from any training loop, for single frames
(``frames`` = 1) and ``frames``-frame sequences (the video mode) alike:

    aug = DHAugmenter(cameras, templates)                  # training cameras, (S, 15) bone templates
    buffer = aug.fit_epoch(real3d, real_root, cam_index)   # one GAN pass; returns that epoch's fakes
    pose2d, pose3d = aug.sample(1024)                      # fresh (2D, 3D) pairs at any time

Settings: :class:`~dhaug.config.AugmentConfig`. The pass step by step: docs/augment/dhaug.md."""

from __future__ import annotations

import torch

from ...camera import Camera, project, random_focals, with_focal
from ...config import AugmentConfig
from ...kinematics import PAPER, BodyModel
from ...kinematics.limits import LimitTable, paper_table
from ...precision import autocast, full_precision, resolve_precision
from ...progress import progress_bar
from ...skeleton import bone_lengths, mirror_pose
from ...timing import section
from ..adversarial import AdversarialTrainer
from ..basis import temporal_basis
from ..common import CameraSet, Discriminator2D, scale_bones, swap_bones
from .networks import Discriminator3D, Generator, critic_loss
from .video import MotionDiscriminator2D, MotionDiscriminator3D, VideoGenerator, four_ways, joint_acceleration

#: GAN batch size of a DHAugmenter whose settings leave ``gan.batch_size`` at 0.
DEFAULT_BATCH = 1024


class DHAugmenter(AdversarialTrainer):
    """The DH-AUG GAN over ``cameras`` with bone ``templates`` (S, 15); ``frames`` > 1: the video GAN."""

    def __init__(
        self,
        cameras: list[Camera],
        templates: torch.Tensor,
        body_model: BodyModel = PAPER,
        limits: LimitTable | None = None,
        settings: AugmentConfig | None = None,
        device="cpu",
        seed: int = 0,
        frames: int = 1,
    ):
        self.s = settings or AugmentConfig()
        if not 0 <= self.s.video.critic_frames <= frames:
            raise ValueError(f"critic_frames = {self.s.video.critic_frames}: must be 0 (all) or 1..frames ({frames})")
        self.frames = frames
        self.batch_size = self.s.gan.batch_size or DEFAULT_BATCH
        limits = limits or paper_table("gan")
        nets: dict = {
            "G": Generator(body_model, limits, self.s.gan.gen_width, self.s.gan.noise_dim)
            if frames == 1
            else VideoGenerator(
                body_model,
                limits,
                frames,
                self.s.gan.gen_width,
                self.s.gan.noise_dim,
                temporal_basis=temporal_basis(self.s.video.temporal_basis, frames),
            ),
            "D3": Discriminator3D(self.s.gan.d3_width),
            "D2": Discriminator2D(self.s.gan.d2_width),
        }
        if frames > 1:
            nets.update(
                MD3=MotionDiscriminator3D(frames, self.s.video.motion_width),
                MD2=MotionDiscriminator2D(frames, self.s.video.motion_width),
            )
        super().__init__(nets, device, seed, lr=self.s.gan.lr, betas=tuple(self.s.gan.betas))
        c = CameraSet.from_cameras(cameras)
        self.cams = CameraSet(*(t.to(self.device) for t in (c.R, c.T, c.K, c.aspect)))
        self.templates = torch.as_tensor(templates, dtype=torch.float32, device=self.device)
        self.precision = resolve_precision(self.s.gan.precision, self.device)
        self._bones: torch.Tensor | None = None  # bone lengths of the last swapped real set (for sample())

    # --- helpers -------------------------------------------------------------------------------
    def _randint(self, high: int, n: int) -> torch.Tensor:
        return torch.randint(high, (n,), generator=self.rng).to(self.device)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.s.gan.noise_dim, generator=self.rng).to(self.device)

    def intrinsics(self, cam: torch.Tensor) -> torch.Tensor:
        """(B, 9) normalised intrinsics of cameras ``cam`` (B,), zoomed to random fields of view if set."""
        K = self.cams.K[cam]
        if self.s.fov_range_deg is None:
            return K
        return with_focal(K, random_focals(len(cam), tuple(self.s.fov_range_deg), self.rng).to(K))

    def swap_real(
        self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor, seq: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows (N,T,16,3) + roots (N,T,3): one bone template per *sequence* ``seq`` (N,), one (zoomed)
        camera per window; returns root-relative world windows (N,T,16,3) and their 2D (N,T,16,2).
        Single poses (N,16,3) + (N,3), each its own sequence: (N,16,3) and (N,16,2)."""
        if real3d.ndim == 3:
            world, pose2d = self.swap_real(
                real3d[:, None], real_root[:, None], cam_index, torch.arange(len(real3d), device=real3d.device)
            )
            return world[:, 0], pose2d[:, 0]
        N, T = real3d.shape[:2]
        _, inverse = torch.unique(seq, return_inverse=True)
        per_seq = self.templates[self._randint(len(self.templates), int(inverse.max()) + 1)]
        if self.s.gan.scale_real_bones and self.s.bone_scale > 0:
            per_seq = scale_bones(per_seq, self.s.bone_scale, self.rng)
        t = per_seq[inverse]
        cam3d = swap_bones(real3d.reshape(N * T, 16, 3), t.repeat_interleave(T, 0)).reshape(N, T, 16, 3)
        K = self.intrinsics(cam_index)
        pose2d = project(cam3d + real_root[:, :, None], K[:, None], clamp=False)
        world = (cam3d.reshape(N, T * 16, 3) @ self.cams.R[cam_index]).reshape(N, T, 16, 3)  # X_w = R^T X_c
        return world, pose2d

    def _generate(self, n: int, bones: torch.Tensor, cam: torch.Tensor, scale: bool = True) -> dict:
        """The generator's output with a time axis: ``world``/``cam`` (n,T,16,3), ``pose2d`` (n,T,16,2),
        ``root_cam`` (n,T,3). ``bones`` (n,15) are scaled by ``bone_scale`` when ``scale`` (false: bones of
        a real set already scaled, ``gan.scale_real_bones``)."""
        scaled = scale_bones(bones, self.s.bone_scale, self.rng) if scale and self.s.bone_scale > 0 else bones
        c = self.cams
        out = self.G.generate(self._noise(n), scaled, c.R[cam], c.T[cam], self.intrinsics(cam), c.aspect[cam])
        if self.frames == 1:
            out = {k: v[:, None] for k, v in out.items()}
        return out

    def _frames_for_critics(self, *seqs: torch.Tensor) -> list[torch.Tensor]:
        """Sequences (B, T, ...) -> the frames the single-frame critics see, (B*k, ...): all T frames,
        or ``critic_frames`` = k distinct frames drawn per sequence (the same draw for every input)."""
        B, T = seqs[0].shape[:2]
        if self.s.video.critic_frames in (0, T):
            return [s.reshape(-1, *s.shape[2:]) for s in seqs]
        k = self.s.video.critic_frames
        pick = torch.rand(B, T, generator=self.rng).argsort(1)[:, :k].to(self.device)
        rows = torch.arange(B, device=self.device)[:, None]
        return [s[rows, pick].reshape(-1, *s.shape[2:]) for s in seqs]

    def _critic_step(self, name: str, real, fake, mirror_fn=mirror_pose, mirror: bool | None = None) -> torch.Tensor:
        """One WGAN-GP step of critic ``name`` (and one on ``mirror_fn`` of the inputs when mirroring);
        returns the detached loss of the first (a device tensor: no host synchronisation per step).
        ``gan.gp_samples`` applies to the shuffled single-frame batches only: the motion critics' inputs are
        four ordered copies (:func:`four_ways`), whose first rows would all be unmirrored, so they keep every pair."""
        D, g = self.nets[name], self.s.gan
        gp_samples = g.gp_samples if name in ("D3", "D2") else 0
        loss = critic_loss(D, real, fake, g.gp_lambda, self.rng, gp_samples)
        self.step(name, loss)
        if g.mirror if mirror is None else mirror:
            self.step(name, critic_loss(D, mirror_fn(real), mirror_fn(fake), g.gp_lambda, self.rng, gp_samples))
        return loss.detach()

    def _generator_step(self, B: int, bones: torch.Tensor, cam: torch.Tensor, motion: bool) -> torch.Tensor:
        """One generator step against the critics; returns its detached loss."""
        g = self._generate(B, bones, cam, scale=not self.s.gan.scale_real_bones)
        g3, g2 = self._frames_for_critics(g["world"], g["pose2d"])
        # mirrored adversarial terms would be detached in the original (no gradient): left out
        adv = self.s.gan.w3d * self.D3(g3).float().mean() + self.s.gan.w2d * self.D2(g2).float().mean()
        if motion:
            adv = adv + self.MD3(four_ways(g["world"])).float().mean() + self.MD2(four_ways(g["pose2d"])).float().mean()
        self.step("G", -adv)
        return -adv.detach()

    def valid(self, fake: dict) -> torch.Tensor:
        """(n,) every frame in front of the camera (joints deeper than ``min_depth``) and inside the image."""
        depth = (fake["cam"] + fake["root_cam"][:, :, None])[..., 2]
        uv = fake["pose2d"]
        return (
            (depth >= self.s.min_depth).flatten(1).all(-1)
            & (uv[..., 0].abs() <= 1).flatten(1).all(-1)
            & (uv[..., 1].abs() <= self.cams.aspect.max()).flatten(1).all(-1)
        )

    def _single(self, pose2d: torch.Tensor, cam3d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pairs from windows: 2D (M,T,16,2) -> (M,16,2) when T = 1; 3D: the centre frame."""
        return (pose2d[:, 0] if self.frames == 1 else pose2d), cam3d[:, self.frames // 2]

    # --- the GAN pass ----------------------------------------------------------------------------
    def fit_epoch(
        self,
        real3d: torch.Tensor,
        real_root: torch.Tensor,
        cam_index: torch.Tensor,
        seq: torch.Tensor | None = None,
        progress: bool = True,
        desc: str = "GAN",
    ) -> dict:
        """One GAN pass over the real set: camera-frame root-relative 3D (N,16,3) — windows (N,T,16,3) —,
        camera-frame roots (N,3) — (N,T,3) —, the camera (N,) and, for windows, the sequence id (N,) of
        each. Returns the epoch's fake buffer (``pose2d`` (M,16,2) — 2D windows (M,T,16,2) — and
        ``pose3d`` (M,16,3), the centre frame), mean losses and, for windows, the mean joint acceleration
        (mm per frame^2) of real and generated windows.

        The networks' forward passes run under ``gan_precision``."""
        with autocast(self.precision, self.device):
            return self._fit_epoch(real3d, real_root, cam_index, seq=seq, progress=progress, desc=desc)

    def _fit_epoch(
        self,
        real3d: torch.Tensor,
        real_root: torch.Tensor,
        cam_index: torch.Tensor,
        seq: torch.Tensor | None = None,
        progress: bool = True,
        desc: str = "GAN",
    ) -> dict:
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
        motion = T > 1 and self.epoch >= self.s.video.motion_start
        n, B = len(world), min(self.batch_size, len(world))
        perm = torch.randperm(n, generator=self.rng).to(dev)
        perm2d = torch.randperm(n, generator=self.rng).to(dev)
        buf, acc = [], []
        logs = {k: [] for k in ("d3", "d2", "g") + (("md3", "md2") if T > 1 else ())}
        for it in progress_bar(range(n // B), desc=desc, unit="batch", enabled=progress):
            idx = perm[it * B : (it + 1) * B]
            real_w, bones = world[idx], bones_all[idx]
            cam = self._randint(len(self.cams.R), 1).expand(B)  # one camera for the whole batch
            real2d = pose2d[perm2d[it * B : (it + 1) * B]]
            with section("gan/generate"), torch.no_grad():
                fake = self._generate(B, bones, cam, scale=not self.s.gan.scale_real_bones)
            with section("gan/critics"):
                r3, f3 = self._frames_for_critics(real_w, fake["world"])
                r2, f2 = self._frames_for_critics(real2d, fake["pose2d"])
                logs["d3"].append(self._critic_step("D3", r3, f3))
                logs["d2"].append(self._critic_step("D2", r2, f2))
                if motion:  # four_ways already mirrors and reverses: one step, gradient penalty per whole sequence
                    logs["md3"].append(
                        self._critic_step("MD3", four_ways(real_w), four_ways(fake["world"]), mirror=False)
                    )
                    logs["md2"].append(
                        self._critic_step("MD2", four_ways(real2d), four_ways(fake["pose2d"]), mirror=False)
                    )
            with section("gan/buffer"):
                buf.append((fake["pose2d"], fake["cam"], self.valid(fake)))  # masked once after the pass
            if T > 2:
                acc.append(joint_acceleration(fake["cam"]).mean())
            if self.iteration % self.s.gan.n_critic == self.s.gan.n_critic - 1:
                with section("gan/generator_step"):
                    logs["g"].append(self._generator_step(B, bones, cam, motion))
            self.iteration += 1
        self.epoch += 1
        out: dict = self.read_logs(logs)  # None: no step of that kind
        if buf:
            x, y = self._single(*self.kept(buf))
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
        scale = True
        if bones is None:
            real = self._bones is not None
            src = self._bones if real else self.templates
            bones = src[self._randint(len(src), n)]
            scale = not (real and self.s.gan.scale_real_bones)  # those are scaled already
        fake = self._generate(n, bones, self._randint(len(self.cams.R), n), scale=scale)
        ok = self.valid(fake)
        return self._single(fake["pose2d"][ok], fake["cam"][ok])


__all__ = ["DEFAULT_BATCH", "DHAugmenter"]
