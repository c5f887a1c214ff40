"""``DHAugmenter``: the DH-AUG GAN as an object usable from any training loop (method.md §3-§5).

    aug = DHAugmenter(cameras, templates)                  # training cameras, (S, 15) bone templates
    buffer = aug.fit_epoch(real3d, real_root, cam_index)   # one GAN pass; returns that epoch's fakes
    pose2d, pose3d = aug.sample(1024)                      # fresh (2D, 3D) pairs at any time

Per GAN pass (method.md §5): the real poses get the bone lengths of a random template (directions
kept) and are re-projected by their own cameras; these swapped pairs are the "real" data of both
critics and the bone-length source of the generator. Batches of B: a 3D-critic step (and one on the
mirrored poses), one camera for the batch, a 2D-critic step against an independently shuffled real
2D batch (and mirrored); every ``n_critic``-th iteration a generator step. The critic-step fakes
(in front of the camera, on screen) form the epoch's fake buffer.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from ..camera import Camera, project, random_focals, with_focal
from ..kinematics import BodyModel, PAPER
from ..kinematics.limits import LimitTable, paper_table
from ..skeleton import bone_lengths, mirror_pose
from .gan import Discriminator2D, Discriminator3D, Generator, critic_loss, scale_bones, swap_bones
from .random_dh import CameraSet


@dataclass
class GANSettings:
    gen_width: int = 256
    d3_width: int = 256
    d2_width: int = 256
    noise_dim: int = 128
    n_critic: int = 5
    gp_lambda: float = 10.0
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    w3d: float = 1.0
    w2d: float = 0.2
    bone_scale: float = 0.2
    batch_size: int = 1024
    mirror: bool = True
    min_depth: float = 0.5
    #: Zoom: every real and generated pair is seen with a horizontal field of view drawn uniformly from
    #: this range (degrees) instead of its camera's own focal length (None: the training cameras' own
    #: intrinsics, as in the paper). Makes the lifter robust to cameras it has not seen.
    fov_range_deg: tuple[float, float] | None = (30.0, 100.0)


class DHAugmenter:
    def __init__(self, cameras: list[Camera], templates: torch.Tensor, body_model: BodyModel = PAPER,
                 limits: LimitTable | None = None, settings: GANSettings | None = None, device="cpu", seed: int = 0):
        self.s = settings or GANSettings()
        self.device = torch.device(device)
        self.cams = CameraSet.from_cameras(cameras)
        self.cams = CameraSet(*(t.to(self.device) for t in (self.cams.R, self.cams.T, self.cams.K, self.cams.aspect)))
        self.templates = torch.as_tensor(templates, dtype=torch.float32, device=self.device)
        self.G = self.make_generator(body_model, limits or paper_table("gan")).to(self.device)
        self.D3 = Discriminator3D(self.s.d3_width).to(self.device)
        self.D2 = Discriminator2D(self.s.d2_width).to(self.device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=self.s.lr, betas=self.s.betas)
        self.opt_D3 = torch.optim.Adam(self.D3.parameters(), lr=self.s.lr, betas=self.s.betas)
        self.opt_D2 = torch.optim.Adam(self.D2.parameters(), lr=self.s.lr, betas=self.s.betas)
        self.rng = torch.Generator(device="cpu").manual_seed(seed)
        self.iteration = 0
        self._bones: torch.Tensor | None = None  # bone lengths of the last swapped real set (for sample())

    # --- helpers -------------------------------------------------------------------------------
    def _randint(self, high: int, n: int) -> torch.Tensor:
        return torch.randint(high, (n,), generator=self.rng).to(self.device)

    def make_generator(self, body_model: BodyModel, limits: LimitTable) -> Generator:
        """The generator network (subclasses make other kinds, e.g. the video generator)."""
        return Generator(body_model, limits, self.s.gen_width, self.s.noise_dim)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.s.noise_dim, generator=self.rng).to(self.device)

    def intrinsics(self, cam: torch.Tensor) -> torch.Tensor:
        """(B, 9) normalised intrinsics of cameras ``cam`` (B,), zoomed to random fields of view if set."""
        K = self.cams.K[cam]
        if self.s.fov_range_deg is None:
            return K
        return with_focal(K, random_focals(len(cam), self.s.fov_range_deg, self.rng).to(K))

    def swap_real(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor):
        """Bone-swapped real set: (world root-relative 3D, 2D) re-projected by each pair's camera."""
        t = self.templates[self._randint(len(self.templates), len(real3d))]
        cam3d = swap_bones(real3d, t)
        c = self.cams
        pose2d = project(cam3d + real_root[:, None], self.intrinsics(cam_index), clamp=False)
        world = cam3d @ c.R[cam_index]  # X_w = R^T X_c (root-relative)
        return world, pose2d

    def _generate(self, n: int, bones: torch.Tensor, cam: torch.Tensor) -> dict:
        scaled = scale_bones(bones, self.s.bone_scale, self.rng) if self.s.bone_scale > 0 else bones
        c = self.cams
        return self.G.generate(self._noise(n), scaled, c.R[cam], c.T[cam], self.intrinsics(cam), c.aspect[cam])

    def _critic_step(self, D, opt, real, fake, mirror_fn) -> float:
        loss = critic_loss(D, real, fake, self.s.gp_lambda, self.rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if self.s.mirror:
            loss_m = critic_loss(D, mirror_fn(real), mirror_fn(fake), self.s.gp_lambda, self.rng)
            opt.zero_grad(set_to_none=True)
            loss_m.backward()
            opt.step()
        return float(loss.detach())

    def valid(self, fake: dict) -> torch.Tensor:
        """In front of the camera (every joint deeper than ``min_depth``) and inside the image."""
        depth = (fake["cam"] + fake["root_cam"][:, None])[..., 2]
        uv = fake["pose2d"]
        return (depth >= self.s.min_depth).all(-1) & (uv[..., 0].abs() <= 1).all(-1) & \
               (uv[..., 1].abs() <= 1.0 * self.cams.aspect.max()).all(-1)

    # --- the GAN pass ----------------------------------------------------------------------------
    def fit_epoch(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor,
                  progress: bool = True, desc: str = "GAN") -> dict:
        """One GAN pass over the real set (camera-frame root-relative 3D (N,16,3), camera-frame roots
        (N,3), camera index (N,)); returns the epoch's fake buffer and mean losses."""
        real3d, real_root, cam_index = real3d.to(self.device), real_root.to(self.device), cam_index.to(self.device)
        world, pose2d = self.swap_real(real3d, real_root, cam_index)
        bones_all = bone_lengths(world)
        self._bones = bones_all
        n, B = len(world), min(self.s.batch_size, len(world))
        perm = torch.randperm(n, generator=self.rng).to(self.device)
        perm2d = torch.randperm(n, generator=self.rng).to(self.device)
        buf2d, buf3d, logs = [], [], {"d3": [], "d2": [], "g": []}
        for it in tqdm(range(n // B), desc=desc, leave=False, disable=not progress):
            idx = perm[it * B:(it + 1) * B]
            real_w, bones = world[idx], bones_all[idx]
            cam = self._randint(len(self.cams.R), 1).expand(B)  # one camera for the whole batch
            with torch.no_grad():
                fake = self._generate(B, bones, cam)
            logs["d3"].append(self._critic_step(self.D3, self.opt_D3, real_w, fake["world"], mirror_pose))
            real2d = pose2d[perm2d[it * B:(it + 1) * B]]
            logs["d2"].append(self._critic_step(self.D2, self.opt_D2, real2d, fake["pose2d"], mirror_pose))
            ok = self.valid(fake)
            buf2d.append(fake["pose2d"][ok])
            buf3d.append(fake["cam"][ok])
            if self.iteration % self.s.n_critic == self.s.n_critic - 1:
                g = self._generate(B, bones, cam)
                # mirrored adversarial terms would be detached in the original (no gradient): left out
                loss_g = -(self.s.w3d * self.D3(g["world"]).mean() + self.s.w2d * self.D2(g["pose2d"]).mean())
                self.opt_G.zero_grad(set_to_none=True)
                loss_g.backward()
                self.opt_G.step()
                logs["g"].append(float(loss_g.detach()))
            self.iteration += 1
        out = {k: float(np.mean(v)) if v else None for k, v in logs.items()}  # None: no step of that kind
        empty2, empty3 = torch.zeros(0, 16, 2, device=self.device), torch.zeros(0, 16, 3, device=self.device)
        out["pose2d"] = torch.cat(buf2d) if buf2d else empty2
        out["pose3d"] = torch.cat(buf3d) if buf3d else empty3
        return out

    @torch.no_grad()
    def sample(self, n: int, bones: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fresh valid pairs (normalised 2D, root-relative camera 3D) from random cameras."""
        if bones is None:
            if self._bones is None:
                bones = self.templates[self._randint(len(self.templates), n)]
            else:
                bones = self._bones[self._randint(len(self._bones), n)]
        fake = self._generate(n, bones, self._randint(len(self.cams.R), n))
        ok = self.valid(fake)
        return fake["pose2d"][ok], fake["cam"][ok]

    # --- checkpointing ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"G": self.G.state_dict(), "D3": self.D3.state_dict(), "D2": self.D2.state_dict(),
                "opt_G": self.opt_G.state_dict(), "opt_D3": self.opt_D3.state_dict(), "opt_D2": self.opt_D2.state_dict(),
                "rng": self.rng.get_state(), "iteration": self.iteration}

    def load_state_dict(self, state: dict) -> None:
        state = copy.deepcopy(state)  # optimizers keep references to the tensors they are given
        for k in ("G", "D3", "D2"):
            getattr(self, k).load_state_dict(state[k])
        for k in ("opt_G", "opt_D3", "opt_D2"):
            getattr(self, k).load_state_dict(state[k])
        self.rng.set_state(state["rng"])
        self.iteration = state["iteration"]


def generator_from_checkpoint(state: dict, name: str = "checkpoint"):
    """The DH-AUG generator (single-frame or video) saved in a ``dhaug train`` checkpoint ``state``
    (as returned by :func:`dhaug.checkpoint.load`) and the run's config; ``name`` labels errors."""
    from ..config import load_config
    from ..errors import ConfigError
    from ..kinematics import get_body_model

    if "augmenter" not in state or "G" not in state["augmenter"]:
        raise ConfigError(f"{name} holds no DH-AUG generator (trained with augment.method="
                          f"{state.get('config', {}).get('augment', {}).get('method')!r}, not 'dhaug' or 'dhaug-video')")
    cfg = load_config(state["config"])
    body = get_body_model(cfg.augment.body_model)
    if cfg.augment.method == "dhaug-video":
        from .video_gan import VideoGenerator
        frames = cfg.model.frames
        weights = state["augmenter"]["G"]  # the cosines are in the weights (runs older than the config's default)
        K = len(weights["basis"]) if "basis" in weights else 0
        G = VideoGenerator(body, paper_table("gan"), frames, cfg.augment.gen_width, temporal_basis=K)
    else:
        G = Generator(body, paper_table("gan"), cfg.augment.gen_width)
    G.load_state_dict(state["augmenter"]["G"])  # the limit table travels with the weights (buffers lo, hi)
    return G.eval(), cfg
