"""PoseAug's adversarial trainer (Gong et al., CVPR 2021) in dhaug's harness: one pass of its augmentor
and discriminators over the real training pairs, with the pose net's feedback in joint epochs;
returns the epoch's augmented pairs. Usable from any training loop:

    aug = PoseAugmenter(cameras, templates)      # training cameras, (S, 15) bone templates (or None)
    aug.attach(pose_net)                         # the feedback loss needs the pose net
    out = aug.fit_epoch(real3d, real_root, cam_index, feedback=True, fraction=0.5)
    out["pose2d"], out["pose3d"]                 # the epoch's augmented pairs (valid ones), training format

Settings: ``augment.poseaug`` (:class:`~dhaug.config.PoseAugConfig`); every choice and its
difference from the release: docs/augment/poseaug.md."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from ...camera import Camera, project
from ...config import AugmentConfig
from ...errors import DataError
from ...precision import autocast, full_precision, resolve_precision
from ...progress import progress_bar
from ...timing import section
from ..adversarial import AdversarialTrainer
from ..common import CameraSet, Discriminator2D, swap_bones
from .losses import feedback_loss, grouped_error, hard_ratio, lsgan_critic_loss, lsgan_generator_loss, range_loss
from .networks import Augmentor, FakePool, PartKCSDiscriminator, kaiming_init

#: Batch size of a PoseAugmenter whose settings leave ``poseaug.batch_size`` at 0.
DEFAULT_BATCH = 1024


@contextmanager
def frozen(*modules: nn.Module, eval_mode: bool = False):
    """Inside: the modules' parameters need no gradient (and, with ``eval_mode``, the modules are in eval
    mode); restored on exit. A graph built inside treats the parameters as constants."""
    saved = [(m.training, [p.requires_grad for p in m.parameters()]) for m in modules]
    for m in modules:
        m.requires_grad_(False)
        if eval_mode:
            m.eval()
    try:
        yield
    finally:
        for m, (training, flags) in zip(modules, saved):
            m.train(training)
            for p, f in zip(m.parameters(), flags):
                p.requires_grad_(f)


class PoseAugmenter(AdversarialTrainer):
    """PoseAug's augmentor and discriminators over ``cameras`` (the training cameras; ``cam_index`` of
    :meth:`fit_epoch` indexes them), with bone ``templates`` (S, 15) for the per-epoch bone swap (None:
    no swap). Usable from any training loop; :meth:`attach` the pose net before a feedback epoch."""

    def __init__(
        self,
        cameras: list[Camera],
        templates: torch.Tensor | None = None,
        settings: AugmentConfig | None = None,
        device="cpu",
        seed: int = 0,
    ) -> None:
        self.s = s = settings or AugmentConfig()
        p = s.poseaug
        with torch.random.fork_rng(devices=[]):  # own seed: the global generator (pose-net init, dropout) untouched
            torch.manual_seed(seed)
            nets = {
                "G": Augmentor(
                    p.width, p.noise_dim, 2, p.blr_tanhlimit, p.fix_backbone, tuple(p.depth_range), p.screen_margin
                ),
                "D3": PartKCSDiscriminator(p.d3_width),
                "D2": Discriminator2D(p.d2_width),
            }
            for net in nets.values():
                net.apply(kaiming_init)
        super().__init__(nets, device, seed, lr=p.lr)  # Adam's default betas, as released
        c = CameraSet.from_cameras(cameras)
        self.cams = CameraSet(*(t.to(self.device) for t in (c.R, c.T, c.K, c.aspect)))
        self.templates = (
            None
            if templates is None or not p.swap_bones
            else torch.as_tensor(templates, dtype=torch.float32, device=self.device)
        )
        self.batch_size = p.batch_size or DEFAULT_BATCH
        self.pools = {"D3": FakePool(p.pool_size), "D2": FakePool(p.pool_size)}
        self.precision = resolve_precision(p.precision, self.device)
        self.pose_net: nn.Module | None = None

    def attach(self, pose_net: nn.Module) -> None:
        """The pose net whose error the feedback loss reads (a reference; it keeps training elsewhere)."""
        self.pose_net = pose_net

    def real_pairs(
        self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The epoch's real data: root-relative camera-frame 3D (N, 16, 3) with the bones of a random
        template each (when swapping), and its 2D (N, 16, 2) seen by its own camera from ``real_root`` (N, 3)."""
        if self.templates is not None:
            pick = torch.randint(len(self.templates), (len(real3d),), generator=self.rng).to(self.device)
            real3d = swap_bones(real3d, self.templates[pick])
        return real3d, project(real3d + real_root[:, None], self.cams.K[cam_index], clamp=False)

    def valid(
        self, cam: torch.Tensor, root: torch.Tensor, pose2d: torch.Tensor, cam_index: torch.Tensor
    ) -> torch.Tensor:
        """(B,) every joint at depth >= ``min_depth`` and inside the image."""
        depth = (cam + root[:, None])[..., 2]
        return (
            (depth >= self.s.min_depth).all(-1)
            & (pose2d[..., 0].abs() <= 1).all(-1)
            & (pose2d[..., 1].abs() <= self.cams.aspect[cam_index][:, None]).all(-1)
        )

    def pose_net_errors(self, *pairs: tuple[torch.Tensor, torch.Tensor]) -> list[torch.Tensor]:
        """Grouped errors (B, 3) of the attached pose net (frozen; in eval mode unless
        ``poseaug.feedback_mode`` is ``train``) on (2D, 3D) ``pairs``; the graph reaches the augmentor
        through the inputs and targets."""
        if self.pose_net is None:
            raise RuntimeError("PoseAugmenter: the feedback loss needs the pose net; call attach(model) first")
        with frozen(self.pose_net, eval_mode=self.s.poseaug.feedback_mode == "eval"):
            return [grouped_error(self.pose_net(x2).float(), x3) for x2, x3 in pairs]

    def _score(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Discriminator ``name``'s scores of ``x``, float32 whatever the precision of its pass."""
        return self.nets[name](x).float()

    def _critic_step(self, name: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        loss = lsgan_critic_loss(self._score(name, real), self._score(name, self.pools[name](fake, self.rng)))
        self.step(name, loss, clip=1.0)
        return loss.detach()

    def fit_epoch(
        self,
        real3d: torch.Tensor,
        real_root: torch.Tensor,
        cam_index: torch.Tensor,
        feedback: bool = False,
        fraction: float = 1.0,
        lr: float | None = None,
        progress: bool = True,
        desc: str = "PoseAug",
    ) -> dict:
        """One pass over the real set: root-relative camera-frame 3D (N, 16, 3), camera-frame pelvis
        (N, 3) and camera (N,) of every pair. ``feedback``: with the pose net's feedback loss (joint
        epochs); ``fraction``: position in the hard-ratio schedule; ``lr``: the GAN's LR this epoch.

        Returns ``pose2d`` (M, 16, 2) and ``pose3d`` (M, 16, 3) (the valid augmented pairs, training
        format), ``logs`` (mean losses and measures, floats), ``examples`` (the first 4 poses of the first
        batch at every stage: ``real``, ``ba``, ``bl``, ``final`` 3D (4, 16, 3) and ``*_2d`` (4, 16, 2),
        ``cam`` (4,)) and ``valid_fraction``. The networks' forward passes run under ``poseaug.precision``."""
        with autocast(self.precision, self.device):
            return self._fit_epoch(real3d, real_root, cam_index, feedback, fraction, lr, progress, desc)

    def _fit_epoch(
        self,
        real3d: torch.Tensor,
        real_root: torch.Tensor,
        cam_index: torch.Tensor,
        feedback: bool,
        fraction: float,
        lr: float | None,
        progress: bool,
        desc: str,
    ) -> dict:
        p, dev = self.s.poseaug, self.device
        if (
            real3d.ndim != 3
            or tuple(real3d.shape[1:]) != (16, 3)
            or real_root.shape != (len(real3d), 3)
            or cam_index.shape != (len(real3d),)
        ):
            raise DataError(
                f"PoseAug needs 3D (N, 16, 3), roots (N, 3) and cameras (N,); got {tuple(real3d.shape)}, "
                f"{tuple(real_root.shape)}, {tuple(cam_index.shape)}"
            )
        if len(real3d) < 2:
            raise DataError(f"PoseAug needs at least 2 real poses (BatchNorm), got {len(real3d)}")
        if lr is not None:
            self.set_lr(lr)
        real3d, real_root, cam_index = (t.to(dev) for t in (real3d, real_root, cam_index))
        with full_precision(dev):
            x3_all, x2_all = self.real_pairs(real3d, real_root, cam_index)
        n = len(x3_all)
        B = min(self.batch_size, n)
        perm = torch.randperm(n, generator=self.rng).to(dev)
        perm_d = torch.randperm(n, generator=self.rng).to(dev)  # the discriminators' real batches
        mu_ba, mu_rt = hard_ratio(fraction, p.hardratio_ba), hard_ratio(fraction, p.hardratio_rt)
        names = ["g", "adv3", "adv2", "diff_angle", "diff_blr", "ba_deg", "blr_abs"]
        if feedback:
            names += ["feedback_ba", "feedback_rt", "hard_ba", "hard_rt"]
        logs = {k: [] for k in names + ["d3", "d2"]}
        buf, examples = [], None
        self.G.train()
        for it in progress_bar(range(n // B), desc=desc, unit="batch", enabled=progress):
            idx, idx_d = perm[it * B : (it + 1) * B], perm_d[it * B : (it + 1) * B]
            x3, x2, root, cam = x3_all[idx], x2_all[idx], real_root[idx], cam_index[idx]
            K = self.cams.K[cam]
            noise = torch.randn(B, Augmentor.NOISES, p.noise_dim, generator=self.rng).to(dev)
            with section("poseaug/augmentor_step"), frozen(self.D3, self.D2):
                g = self.G(x3, noise, K, self.cams.aspect[cam])
                ba2d = project(g["ba"] + root[:, None], K, clamp=False)
                rt2d = project(g["cam"] + g["root"][:, None], K, clamp=False)
                adv3 = lsgan_generator_loss(self._score("D3", g["ba"]))
                adv2 = lsgan_generator_loss(self._score("D2", rt2d))
                diff_angle = range_loss(g["ba_diff"].mean(-1), p.ba_range_m, p.ba_range_w)
                diff_blr = range_loss(g["blr"], 0.0, p.blr_limit)
                loss = p.w_d3d * adv3 + p.w_d2d * adv2 + p.w_diff * (diff_angle + p.w_blr * diff_blr)
                if feedback:
                    with section("poseaug/feedback"):
                        with torch.no_grad():
                            (e0,) = self.pose_net_errors((x2, x3))
                        e_ba, e_rt = self.pose_net_errors((ba2d, g["ba"]), (rt2d, g["cam"]))
                    fb_ba = feedback_loss(e_ba, e0, mu_ba, p.hardratio_std_ba, p.feedback)
                    fb_rt = feedback_loss(e_rt, e0, mu_rt, p.hardratio_std_rt, p.feedback)
                    loss = loss + p.w_feedback_ba * fb_ba + p.w_feedback_rt * fb_rt
                    hard = [(e / e0.clamp_min(1e-6)).mean() for e in (e_ba, e_rt)]
                    for k, v in zip(("feedback_ba", "feedback_rt", "hard_ba", "hard_rt"), (fb_ba, fb_rt, *hard)):
                        logs[k].append(v.detach())
            with section("poseaug/augmentor_step"):
                self.step("G", loss, clip=1.0)
            if self.iteration % p.d_every == 0:
                with section("poseaug/critics"):
                    logs["d3"].append(self._critic_step("D3", x3_all[idx_d], g["ba"].detach()))
                    logs["d2"].append(self._critic_step("D2", x2_all[idx_d], rt2d.detach()))
            cam3d, rt2d = g["cam"].detach(), rt2d.detach()
            with section("poseaug/buffer"):
                buf.append((rt2d, cam3d, self.valid(cam3d, g["root"].detach(), rt2d, cam)))
            ba_deg = torch.rad2deg(torch.acos((1 - g["ba_diff"].detach()).clamp(-1, 1))).mean()
            for k, v in zip(
                ("g", "adv3", "adv2", "diff_angle", "diff_blr", "ba_deg", "blr_abs"),
                (loss, adv3, adv2, diff_angle, diff_blr, ba_deg, g["blr"].abs().mean()),
            ):
                logs[k].append(v.detach())
            if examples is None:
                with torch.no_grad():
                    bl2d = project(g["bl"][:4] + root[:4, None], K[:4], clamp=False)
                examples = {
                    "real": x3[:4],
                    "real_2d": x2[:4],
                    "ba": g["ba"][:4].detach(),
                    "ba_2d": ba2d[:4].detach(),
                    "bl": g["bl"][:4].detach(),
                    "bl_2d": bl2d,
                    "final": cam3d[:4],
                    "final_2d": rt2d[:4],
                    "cam": cam[:4],
                }
            self.iteration += 1
        self.epoch += 1
        pose2d, pose3d = self.kept(buf)
        out = {
            "pose2d": pose2d,
            "pose3d": pose3d,
            "examples": examples,
            "logs": {k: v for k, v in self.read_logs(logs).items() if v is not None},
        }
        out["logs"]["valid_fraction"] = out["valid_fraction"] = len(pose2d) / max(1, len(buf) * B)
        out["logs"]["lr"] = self.opts["G"].param_groups[0]["lr"]
        if feedback:
            out["logs"].update(hard_target_ba=mu_ba, hard_target_rt=mu_rt)
        return out

    # --- checkpointing: the base's, plus the fake pools ---------------------------------------------
    def extra_state(self) -> dict:
        return {"pools": {k: p.state_dict() for k, p in self.pools.items()}}

    def load_extra_state(self, state: dict) -> None:
        for k, p in self.pools.items():
            p.load_state_dict(state["pools"][k])
            if p.items is not None:
                p.items = p.items.to(self.device)


def example_grid(examples: dict, R: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:meth:`PoseAugmenter.fit_epoch`'s examples as rows of a picture (real, BA, BA + BL, final), each
    row the same poses: world-frame 3D (4 k, 16, 3) (rotated back by the cameras ``R`` (C, 3, 3)) and 2D
    (4 k, 16, 2), for :func:`dhaug.plots.plot_pose_grid` with ``cols`` = k."""
    Rc = R[examples["cam"]]
    stages = ("real", "ba", "bl", "final")
    world = torch.cat([examples[k] @ Rc for k in stages])  # X_w = R^T X_c, row vectors
    return world, torch.cat([examples[f"{k}_2d"] for k in stages])


__all__ = ["DEFAULT_BATCH", "PoseAugmenter", "example_grid", "frozen"]
