"""PoseAug (Gong, Zhang, Feng, CVPR 2021, arXiv 2105.02465) in dhaug's harness: a differentiable
augmentor that changes *real* training poses (bone angles, bone lengths, view and position), trained
against a part-aware 3D discriminator and a 2D discriminator and with the pose net's own error as
feedback, so that the augmented pairs are "hard but not too hard". Written from the paper's abstract
and from facts read in the public release (jfzhang95/PoseAug, its code, config and issues); no code of
it is copied.

    aug = PoseAugmenter(cameras, templates)      # training cameras, (S, 15) bone templates (or None)
    aug.attach(pose_net)                         # the feedback loss needs the pose net
    out = aug.fit_epoch(real3d, real_root, cam_index, feedback=True, fraction=0.5)
    out["pose2d"], out["pose3d"]                 # the epoch's augmented pairs (valid ones), training format

In training (``augment.method: poseaug``, :class:`~dhaug.augment.source.PoseAugSource`) the phases
are those of :class:`Schedule`. Settings are the ``poseaug_*`` fields (and ``warmup``, ``gan_lr``,
``gan_batch_size``, ``min_depth``, ``monitor_every``) of :class:`~dhaug.config.AugmentConfig`.

**The augmentor** (:class:`Augmentor`): four heads read the root-relative camera-frame input pose
(48 numbers; BL also its 15 bone lengths), each with its own noise (48-d, N(0, 1)); each head is
Linear-BN-LeakyReLU to width 256, 2 stages of [Linear-BN-LeakyReLU] x 2 (no skip connection, as
released), then a linear output; Kaiming-normal weights. Applied in the order BA -> BL -> RT:

* **BA** (:func:`bone_angle_change`): a residual (15, 3) is added to the unit bone vectors, which are
  re-normalised and given their old lengths, then re-assembled along the kinematic tree from the
  pelvis (:func:`assemble`, :data:`~dhaug.skeleton.H36M16` parents). ``poseaug_fix_backbone`` (the
  release, issue #18 "fixed backbone"): the pelvis->spine and spine->thorax bones keep their
  direction, so BA cannot rotate the whole body; off = the paper's version. The change per bone is
  ``1 - cos`` of the angle between old and new direction; its mean over the 15 bones is kept in
  ``poseaug_ba_range_m`` +- ``poseaug_ba_range_w`` = 0.205 +- 0.165 (0.04..0.37 = 1 - cos of 16..51
  deg), by a rectified squared penalty (:func:`range_loss`, zero inside the range) — a soft range,
  not a hard limit.
* **BL** (:func:`bone_length_change`): 9 ratios r = ``poseaug_blr_tanhlimit`` tanh(.) (|r| < 0.2), one
  per left/right bone pair (:data:`BL_GROUP`), lengths x (1 + r); the spine->thorax bone never changes
  (the release's mask: a taller person farther away would give the same 2D); a rectified L2 keeps
  |r| mostly under ``poseaug_blr_limit`` 0.1 (weight ``poseaug_w_blr`` 1).
* **RT**: a rotation about the pelvis, axis-angle pi tanh(.) (any rotation, as released) in the
  camera frame, and a new pelvis position. Ours: the pelvis at a depth in ``poseaug_depth_range``
  (2.5-8 m, the DH-AUG generator's) projecting inside the central ``poseaug_screen_margin`` of the
  image (:func:`~dhaug.augment.gan.root_in_camera`), so every augmented person stands in front of the
  camera; the release outputs a free (x, y) and z = raw^2 (which can reach the camera plane).
  Projection with the pose's *own* training camera (normalised intrinsics
  with distortion, :func:`~dhaug.camera.project`, unclamped); ``fov_range_deg`` (DH-AUG's zoom) is not
  used. Pairs with a joint nearer than ``min_depth`` or off the image are dropped (the release dropped
  only those with a coordinate > 1).

**Discriminators** (LSGAN: mean squared distance to 1 for real, 0 for fake; the generator's loss is
0.5 E[(D(fake) - 1)^2], the release's constant real-score term dropped):

* 3D (:class:`PartKCSDiscriminator`) on the *BA* pose (as released: BL and RT change no angle, and
  KCS is rotation invariant): bones are made unit length (angles only), then per body part the Kinematic
  Chain Space ``B_p B_p^T`` (15 x 15) of the bone matrix with the bones outside the part zeroed
  (:func:`kcs`), each through its own MLP 225 -> 256 -> 256 -> 256 (+ skip) -> 100 -> 1; one score per
  part. Parts (:data:`PARTS`, bone indices of :attr:`~dhaug.skeleton.Skeleton.bones`): torso = both
  hips, pelvis->spine, spine->thorax, neck/head, both clavicles (0, 3, 6, 7, 8, 9, 12); each arm =
  spine->thorax + clavicle, upper arm, forearm (left 7, 9, 10, 11; right 7, 12, 13, 14); each leg = both
  hips + pelvis->spine + thigh, shin (right 0, 1, 2, 3, 6; left 0, 3, 4, 5, 6; the release calls the
  leg of bones 1, 2 — our RHip-RKnee-RAnkle — "left").
* 2D: DH-AUG's 2D critic net (the same net, it came from PoseAug) at width ``poseaug_d2_width`` 100,
  on the final (RT) 2D against the real 2D.
* Real data of both: the epoch's real poses after the bone swap below, shuffled independently of the
  augmentor's batch. Fakes go through a pool of ``poseaug_pool_size`` 4096 past fakes (Shrivastava
  et al., as released: while filling it returns the fake, then with probability 1/2 swaps it for a
  stored one; batched here, so two swaps of one slot in the same batch both return its old content).

**Losses of the augmentor** (weights as released): ``poseaug_w_d3d`` 6 x 3D adversarial +
``poseaug_w_d2d`` 1 x 2D adversarial + ``poseaug_w_diff`` 3 x (BA range + BL rectified L2) and, in
joint epochs, the **feedback** ``poseaug_w_feedback_ba`` 0.1 x L(BA pair) + ``poseaug_w_feedback_rt``
0.01 x L(final pair). The pose net (frozen, in eval mode: ours — the release ran it in train mode, so
BatchNorm used batch statistics and dropout was on inside the feedback) predicts the original pair,
the BA pair (BA pose with the original pelvis) and the final pair; its per-joint errors, weighted
(:data:`FEEDBACK_WEIGHTS`: 5 hips/shoulders, 2 knees/elbows, 1 elsewhere) are averaged in three
groups (:data:`FEEDBACK_GROUPS`: hips+shoulders; knees, elbows, head; ankles+wrists), and the
**hardness** is the ratio augmented / original per pose and group.

* ``poseaug_feedback: range`` (the release, issue #15: "a rectified L2 loss which can adjust the
  hardness within a proper range"): the hardness must lie in mu +- sigma (:func:`range_loss`).
  ``poseaug_hardratio_ba`` [3, 5] with ``poseaug_hardratio_std_ba`` 2 = "BA 3 -> 5 +- 2": mu goes
  linearly from 3 to 5 over the GAN epochs (``fraction`` = (GAN epoch + 1) / GAN epochs, as released),
  so the pose net's error on a BA pair should be 1-5x its error on the original at the start and
  3-7x at the end; RT: [17, 17] +- 15, the final pair 2-32x harder throughout.
* ``poseaug_feedback: paper`` (the paper's Eq., the release's unused ``fix_hard_ratio_loss``, issue
  #15): ``|1 - exp(e_aug - beta e_orig)|`` per pose and group, beta = mu of the same schedule.

**Updates**: per batch one augmentor step (gradient norm clipped to 1); every ``poseaug_d_every`` = 2nd
batch one step of each discriminator (clipped to 1) on that batch's fakes; Adam (default betas
0.9, 0.999, as released; DH-AUG's ``betas`` are not used) at ``gan_lr`` 1e-4 decayed linearly
``lr (1 - k / (K + 1))`` over the K GAN epochs (the release's LambdaLR). Every epoch the real poses
first get the bone lengths of a random training-subject template (``poseaug_swap_bones``; the release's
``random_bl_aug`` with S1, S5-S8 templates), and are re-projected by their own cameras: these are the
augmentor's input and the discriminators' real data (the pose net's real pass keeps the real pairs).
The epoch's output: one augmented pair per real pair of the full batches (valid ones).

**Paper vs released code.** Its maintainers say (issues #15, #18) that the release changed the BA
operation (the fixed backbone) and the feedback loss (a range for the hardness instead of the paper's
single value), which "helps achieve better performance" (3DHP VPose-GT 71); the hard-ratio numbers
above are the release's. We follow the release; ``poseaug_fix_backbone: false`` and
``poseaug_feedback: paper`` give the paper's BA and feedback. Not followed either way: the release's
model selection on the test sets (dhaug reports the last epoch) and its separate pre-training run with
its own LR (1e-3) — here pre-training is the first ``poseaug_pretrain_epochs`` of the one pose-net
schedule every method gets (``poseaug_pose_lr`` > 0 switches to PoseAug's 1e-4 from the GAN's start).

State (``state_dict``): the three nets, their optimisers, the pools, the random generator and the
counters — a killed run resumes exactly. The nets are initialised from their own seed, without
touching torch's global generator, so a PoseAug run's pose net starts from the same weights as the
``none`` run of the same seed.
"""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ..camera import Camera, project
from ..config import AugmentConfig
from ..errors import DataError
from ..progress import progress_bar
from ..skeleton import H36M16, bone_lengths
from ..timing import section
from .gan import Discriminator2D, bone_vectors, root_in_camera, swap_bones
from .random_dh import CameraSet

#: Bones (indices into :attr:`H36M16.bones`; bone i ends at joint i + 1) of each part whose KCS the 3D
#: discriminator judges.
PARTS = {"torso": (0, 3, 6, 7, 8, 9, 12), "left_arm": (7, 9, 10, 11), "right_arm": (7, 12, 13, 14),
         "right_leg": (0, 1, 2, 3, 6), "left_leg": (0, 3, 4, 5, 6)}
#: Bones whose direction BA keeps with ``poseaug_fix_backbone``: pelvis->spine, spine->thorax.
BACKBONE = (6, 7)
#: BL ratio of each bone (left and right share one): hips, thighs, shins, pelvis->spine, spine->thorax,
#: neck/head, clavicles, upper arms, forearms.
BL_GROUP = (0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 6, 7, 8)
#: The BL ratio held at 0 (spine->thorax).
BL_FIXED = 4
#: Per-joint weights of the pose net's error in the feedback loss, and the joint groups it is compared in.
FEEDBACK_WEIGHTS = (1, 5, 2, 1, 5, 2, 1, 1, 1, 1, 5, 2, 1, 5, 2, 1)
FEEDBACK_GROUPS = ((1, 4, 10, 13), (2, 5, 9, 11, 14), (3, 6, 12, 15))
#: Batch size of a PoseAugmenter whose settings leave ``gan_batch_size`` at 0.
DEFAULT_BATCH = 1024


# --- pure functions ---------------------------------------------------------------------------------

def ancestors(parents=H36M16.parents) -> torch.Tensor:
    """(J, J-1) 0/1 matrix: entry (j, b) = 1 when bone b (ending at joint b + 1) lies on the path from the
    root to joint j, so that ``joints = ancestors() @ bones``."""
    J = len(parents)
    A = torch.zeros(J, J - 1)
    for j in range(1, J):
        k = j
        while k > 0:
            A[j, k - 1] = 1
            k = parents[k]
    return A


_ANCESTORS = ancestors()


def assemble(bones: torch.Tensor) -> torch.Tensor:
    """Bone vectors (..., 15, 3) (child minus parent, :func:`~dhaug.augment.gan.bone_vectors` order) ->
    joints (..., 16, 3) with the pelvis at the origin: each joint is its parent plus its bone."""
    return torch.einsum("jb,...bd->...jd", _ANCESTORS.to(bones), bones)


def bone_angle_change(pose: torch.Tensor, residual: torch.Tensor, fixed: tuple[int, ...] = BACKBONE
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """BA: new bone directions ``normalise(u + residual)`` with the old lengths.

    Args:
        pose: (..., 16, 3) root-relative poses.  residual: (..., 15, 3).  fixed: bones that keep their direction.
    Returns:
        (..., 16, 3) root-relative poses and the change ``1 - cos`` of every bone's direction (..., 15).
    """
    b = bone_vectors(pose)
    length = torch.linalg.norm(b, dim=-1, keepdim=True)
    u = b / length.clamp_min(1e-8)
    new = nn.functional.normalize(u + residual, dim=-1, eps=1e-8)
    if fixed:
        keep = torch.zeros(15, 1, dtype=torch.bool, device=pose.device)
        keep[list(fixed)] = True
        new = torch.where(keep, u, new)
    return assemble(new * length), 1 - (new * u).sum(-1)


def bone_length_change(pose: torch.Tensor, raw: torch.Tensor, limit: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """BL: lengths x (1 + r), r = ``limit`` tanh(raw) per left/right group (:data:`BL_GROUP`), r = 0 for
    the spine->thorax group. pose (..., 16, 3) root-relative, raw (..., 9) -> (poses (..., 16, 3), r (..., 15))."""
    keep = torch.ones(9, dtype=raw.dtype, device=raw.device)
    keep[BL_FIXED] = 0
    r = (limit * torch.tanh(raw * keep))[..., list(BL_GROUP)]
    return assemble(bone_vectors(pose) * (1 + r)[..., None]), r


def rotation_from_axis_angle(r: torch.Tensor) -> torch.Tensor:
    """Rodrigues: axis-angle vectors (..., 3) (angle = length, radians) -> rotation matrices (..., 3, 3);
    smooth at r = 0."""
    theta = torch.sqrt((r * r).sum(-1) + 1e-12)[..., None, None]
    k = r / theta[..., 0]
    zero = torch.zeros_like(k[..., 0])
    K = torch.stack([torch.stack([zero, -k[..., 2], k[..., 1]], -1),
                     torch.stack([k[..., 2], zero, -k[..., 0]], -1),
                     torch.stack([-k[..., 1], k[..., 0], zero], -1)], -2)
    eye = torch.eye(3, dtype=r.dtype, device=r.device)
    return eye + torch.sin(theta) * K + (1 - torch.cos(theta)) * (K @ K)


def part_masks(parts=PARTS) -> torch.Tensor:
    """(P, 15) 0/1: the bones of each part."""
    M = torch.zeros(len(parts), 15)
    for i, bones in enumerate(parts.values()):
        M[i, list(bones)] = 1
    return M


def kcs(pose: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
    """Part-aware Kinematic Chain Space: per part the Gram matrix ``B B^T`` of the *unit* bone vectors,
    those outside the part zeroed (entry (i, j): cosine of the angle between bones i and j of the part).

    Args:
        pose: (..., 16, 3).  masks: (P, 15) from :func:`part_masks` (default: :data:`PARTS`).
    Returns:
        (..., P, 15, 15), symmetric and invariant to rotations of the pose.
    """
    masks = (part_masks() if masks is None else masks).to(pose)
    u = nn.functional.normalize(bone_vectors(pose), dim=-1, eps=1e-8)
    b = u[..., None, :, :] * masks[:, :, None]  # (..., P, 15, 3)
    return b @ b.transpose(-1, -2)


def range_loss(x: torch.Tensor, mean: float, half_width: float) -> torch.Tensor:
    """Rectified squared distance: mean over all elements of ``(x - mean)^2`` where ``|x - mean| >
    half_width``, 0 inside the range. ``range_loss(x, 0, b)`` is the release's rectified L2."""
    d = (x - mean) ** 2
    return (d * (d > half_width ** 2)).mean()


def grouped_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The pose net's error for the feedback: per-joint distance (B, 16) x :data:`FEEDBACK_WEIGHTS`,
    averaged over each of the :data:`FEEDBACK_GROUPS`. (B, 16, 3) root-relative poses -> (B, 3)."""
    w = torch.tensor(FEEDBACK_WEIGHTS, dtype=pred.dtype, device=pred.device)
    err = torch.linalg.norm(pred - target, dim=-1) * w
    return torch.stack([err[:, list(g)].mean(-1) for g in FEEDBACK_GROUPS], -1)


def hard_ratio(fraction: float, start_end: tuple[float, float]) -> float:
    """The hardness target mu after ``fraction`` (0..1) of the GAN epochs: linear from start to end."""
    s, e = start_end
    return s + (e - s) * fraction


def feedback_loss(err_aug: torch.Tensor, err_orig: torch.Tensor, target: float, spread: float,
                  mode: str = "range") -> torch.Tensor:
    """The feedback loss on grouped errors (B, 3) of the augmented and the original pairs.
    ``range`` (release): the hardness ``err_aug / err_orig`` within ``target`` +- ``spread``
    (:func:`range_loss`); ``paper``: ``|1 - exp(err_aug - target * err_orig)|`` (``spread`` unused)."""
    if mode == "paper":
        return (1 - torch.exp(err_aug - target * err_orig)).abs().mean()
    return range_loss(err_aug / err_orig.clamp_min(1e-6), target, spread)


def lsgan_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``0.5 (E[(D(real) - 1)^2] + E[D(fake)^2])`` on scores of any shape."""
    return 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())


def lsgan_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """``0.5 E[(D(fake) - 1)^2]``."""
    return 0.5 * ((fake - 1) ** 2).mean()


# --- networks -----------------------------------------------------------------------------------------

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

    def __init__(self, width: int = 256, noise_dim: int = 48, stages: int = 2, blr_tanhlimit: float = 0.2,
                 fix_backbone: bool = True, depth_range: tuple[float, float] = (2.5, 8.0),
                 screen_margin: float = 0.7) -> None:
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
        x = pose.flatten(1)
        ba, ba_diff = bone_angle_change(pose, self.ba(torch.cat([x, noise[:, 0]], -1)).view(-1, 15, 3), self.fixed)
        raw = self.bl(torch.cat([x, bone_lengths(pose), noise[:, 1]], -1))
        bl, blr = bone_length_change(ba, raw, self.blr_tanhlimit)
        r = math.pi * torch.tanh(self.rot(torch.cat([x, noise[:, 2]], -1)))
        t = self.trans(torch.cat([x, noise[:, 3]], -1))
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
        self.items[self.count:self.count + fill] = x[:fill]
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


# --- the schedule -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """PoseAug's phases in the epochs of :func:`dhaug.train.train`'s loop (``pose_start`` GAN-only epochs,
    then the pose net's ``pose_epochs``; the pose net's budget is that of every other method).

    * ``pretrain`` pose-net epochs on real data only (PoseAug pre-trains the pose net in a separate run:
      50 epochs for VideoPose/SimpleBaseline, then 50 PoseAug epochs; ``poseaug_pretrain_epochs`` -1 =
      half the pose-net epochs, the same 1 : 1 split inside one budget);
    * ``warmup`` GAN epochs without feedback and without augmented pairs; they overlap the last
      pre-training epochs (the pose net keeps training on real data there; PoseAug froze it, but
      without feedback the GAN does not use it), or, when ``pretrain`` < ``warmup``, come first as
      GAN-only loop epochs;
    * then joint epochs: GAN pass with feedback, synthetic pass on its pairs, real pass.
    """

    pose_epochs: int
    pretrain: int
    warmup: int

    @staticmethod
    def from_config(ac: AugmentConfig, tc) -> "Schedule":
        E = tc.epochs + tc.tail_epochs
        return Schedule(E, ac.poseaug_pretrain_epochs if ac.poseaug_pretrain_epochs >= 0 else E // 2, ac.warmup)

    @property
    def pose_start(self) -> int:
        """GAN-only loop epochs before the pose net's first."""
        return max(0, self.warmup - self.pretrain)

    @property
    def gan_start(self) -> int:
        """The loop epoch of the first GAN pass."""
        return self.pose_start + self.pretrain - self.warmup

    @property
    def gan_epochs(self) -> int:
        """K: loop epochs with a GAN pass."""
        return self.pose_start + self.pose_epochs - self.gan_start

    def phase(self, epoch: int) -> str:
        """``pretrain``, ``warmup`` or ``joint`` for loop epoch ``epoch``."""
        if epoch < self.gan_start:
            return "pretrain"
        return "warmup" if epoch < self.gan_start + self.warmup else "joint"

    def fraction(self, epoch: int) -> float:
        """(k + 1) / K for GAN epoch k: the hard-ratio schedule's position after this epoch."""
        return (epoch - self.gan_start + 1) / self.gan_epochs

    def decayed(self, epoch: int, lr: float) -> float:
        """``lr (1 - k / (K + 1))`` in GAN epoch k (PoseAug's linear decay of every network's LR)."""
        return lr * (1 - (epoch - self.gan_start) / (self.gan_epochs + 1))

    def pose_lr(self, epoch: int, lr: float, pose_lr: float) -> float:
        """The pose net's LR in loop epoch ``epoch``: the harness's ``lr``; with ``pose_lr`` > 0 PoseAug's
        own from the first GAN epoch on (``pose_lr`` decayed as :meth:`decayed`)."""
        return self.decayed(epoch, pose_lr) if pose_lr > 0 and epoch >= self.gan_start else lr


# --- the augmenter ------------------------------------------------------------------------------------

class PoseAugmenter:
    """PoseAug's augmentor and discriminators over ``cameras`` (the training cameras; ``cam_index`` of
    :meth:`fit_epoch` indexes them), with bone ``templates`` (S, 15) for the per-epoch bone swap (None:
    no swap). Usable from any training loop; :meth:`attach` the pose net before a feedback epoch."""

    def __init__(self, cameras: list[Camera], templates: torch.Tensor | None = None,
                 settings: AugmentConfig | None = None, device="cpu", seed: int = 0) -> None:
        self.s = s = settings or AugmentConfig()
        self.device = torch.device(device)
        c = CameraSet.from_cameras(cameras)
        self.cams = CameraSet(*(t.to(self.device) for t in (c.R, c.T, c.K, c.aspect)))
        self.templates = None if templates is None or not s.poseaug_swap_bones else \
            torch.as_tensor(templates, dtype=torch.float32, device=self.device)
        self.batch_size = s.gan_batch_size or DEFAULT_BATCH
        with torch.random.fork_rng(devices=[]):  # own seed: the global generator (pose-net init, dropout) untouched
            torch.manual_seed(seed)
            self.G = Augmentor(s.poseaug_width, s.poseaug_noise_dim, 2, s.poseaug_blr_tanhlimit, s.poseaug_fix_backbone,
                               tuple(s.poseaug_depth_range), s.poseaug_screen_margin)
            self.D3 = PartKCSDiscriminator(s.poseaug_d3_width)
            self.D2 = Discriminator2D(s.poseaug_d2_width)
            for net in (self.G, self.D3, self.D2):
                net.apply(kaiming_init)
        self.nets = ["G", "D3", "D2"]
        for k in self.nets:
            net = getattr(self, k).to(self.device)
            setattr(self, f"opt_{k}", torch.optim.Adam(net.parameters(), lr=s.gan_lr))
        self.pools = {"D3": FakePool(s.poseaug_pool_size), "D2": FakePool(s.poseaug_pool_size)}
        self.rng = torch.Generator(device="cpu").manual_seed(seed)
        self.iteration = 0
        self.epoch = 0
        self.pose_net: nn.Module | None = None

    def attach(self, pose_net: nn.Module) -> None:
        """The pose net whose error the feedback loss reads (a reference; it keeps training elsewhere)."""
        self.pose_net = pose_net

    def set_lr(self, lr: float) -> None:
        for k in self.nets:
            for group in getattr(self, f"opt_{k}").param_groups:
                group["lr"] = lr

    def real_pairs(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """The epoch's real data: root-relative camera-frame 3D (N, 16, 3) with the bones of a random
        template each (when swapping), and its 2D (N, 16, 2) seen by its own camera from ``real_root`` (N, 3)."""
        if self.templates is not None:
            pick = torch.randint(len(self.templates), (len(real3d),), generator=self.rng).to(self.device)
            real3d = swap_bones(real3d, self.templates[pick])
        return real3d, project(real3d + real_root[:, None], self.cams.K[cam_index], clamp=False)

    def valid(self, cam: torch.Tensor, root: torch.Tensor, pose2d: torch.Tensor, cam_index: torch.Tensor
              ) -> torch.Tensor:
        """(B,) every joint at depth >= ``min_depth`` and inside the image."""
        depth = (cam + root[:, None])[..., 2]
        return (depth >= self.s.min_depth).all(-1) & (pose2d[..., 0].abs() <= 1).all(-1) & \
            (pose2d[..., 1].abs() <= self.cams.aspect[cam_index][:, None]).all(-1)

    def pose_net_errors(self, *pairs: tuple[torch.Tensor, torch.Tensor]) -> list[torch.Tensor]:
        """Grouped errors (B, 3) of the attached pose net (frozen; in eval mode unless
        ``poseaug_feedback_mode`` is ``train``) on (2D, 3D) ``pairs``; the graph reaches the augmentor
        through the inputs and targets."""
        if self.pose_net is None:
            raise RuntimeError("PoseAugmenter: the feedback loss needs the pose net; call attach(model) first")
        with frozen(self.pose_net, eval_mode=self.s.poseaug_feedback_mode == "eval"):
            return [grouped_error(self.pose_net(x2), x3) for x2, x3 in pairs]

    def _critic_step(self, name: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        D, opt = getattr(self, name), getattr(self, f"opt_{name}")
        loss = lsgan_critic_loss(D(real), D(self.pools[name](fake, self.rng)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(D.parameters(), 1.0)
        opt.step()
        return loss.detach()

    def fit_epoch(self, real3d: torch.Tensor, real_root: torch.Tensor, cam_index: torch.Tensor, feedback: bool = False,
                  fraction: float = 1.0, lr: float | None = None, progress: bool = True, desc: str = "PoseAug") -> dict:
        """One pass over the real set: root-relative camera-frame 3D (N, 16, 3), camera-frame pelvis
        (N, 3) and camera (N,) of every pair. ``feedback``: with the pose net's feedback loss (joint
        epochs); ``fraction``: position in the hard-ratio schedule; ``lr``: the GAN's LR this epoch.

        Returns ``pose2d`` (M, 16, 2) and ``pose3d`` (M, 16, 3) (the valid augmented pairs, training
        format), ``logs`` (mean losses and measures, floats), ``examples`` (the first 4 poses of the first
        batch at every stage: ``real``, ``ba``, ``bl``, ``final`` 3D (4, 16, 3) and ``*_2d`` (4, 16, 2),
        ``cam`` (4,)) and ``valid_fraction``."""
        s, dev = self.s, self.device
        if real3d.ndim != 3 or tuple(real3d.shape[1:]) != (16, 3) or real_root.shape != (len(real3d), 3) \
                or cam_index.shape != (len(real3d),):
            raise DataError(f"PoseAug needs 3D (N, 16, 3), roots (N, 3) and cameras (N,); got {tuple(real3d.shape)}, "
                            f"{tuple(real_root.shape)}, {tuple(cam_index.shape)}")
        if len(real3d) < 2:
            raise DataError(f"PoseAug needs at least 2 real poses (BatchNorm), got {len(real3d)}")
        if lr is not None:
            self.set_lr(lr)
        real3d, real_root, cam_index = (t.to(dev) for t in (real3d, real_root, cam_index))
        x3_all, x2_all = self.real_pairs(real3d, real_root, cam_index)
        n = len(x3_all)
        B = min(self.batch_size, n)
        perm = torch.randperm(n, generator=self.rng).to(dev)
        perm_d = torch.randperm(n, generator=self.rng).to(dev)  # the discriminators' real batches
        mu_ba, mu_rt = hard_ratio(fraction, s.poseaug_hardratio_ba), hard_ratio(fraction, s.poseaug_hardratio_rt)
        names = ["g", "adv3", "adv2", "diff_angle", "diff_blr", "ba_deg", "blr_abs"]
        if feedback:
            names += ["feedback_ba", "feedback_rt", "hard_ba", "hard_rt"]
        logs = {k: [] for k in names + ["d3", "d2"]}
        buf, examples = [], None
        self.G.train()
        for it in progress_bar(range(n // B), desc=desc, unit="batch", enabled=progress):
            idx, idx_d = perm[it * B:(it + 1) * B], perm_d[it * B:(it + 1) * B]
            x3, x2, root, cam = x3_all[idx], x2_all[idx], real_root[idx], cam_index[idx]
            K = self.cams.K[cam]
            noise = torch.randn(B, Augmentor.NOISES, s.poseaug_noise_dim, generator=self.rng).to(dev)
            with section("poseaug/augmentor_step"), frozen(self.D3, self.D2):
                g = self.G(x3, noise, K, self.cams.aspect[cam])
                ba2d = project(g["ba"] + root[:, None], K, clamp=False)
                rt2d = project(g["cam"] + g["root"][:, None], K, clamp=False)
                adv3, adv2 = lsgan_generator_loss(self.D3(g["ba"])), lsgan_generator_loss(self.D2(rt2d))
                diff_angle = range_loss(g["ba_diff"].mean(-1), s.poseaug_ba_range_m, s.poseaug_ba_range_w)
                diff_blr = range_loss(g["blr"], 0.0, s.poseaug_blr_limit)
                loss = s.poseaug_w_d3d * adv3 + s.poseaug_w_d2d * adv2 + \
                    s.poseaug_w_diff * (diff_angle + s.poseaug_w_blr * diff_blr)
                if feedback:
                    with section("poseaug/feedback"):
                        with torch.no_grad():
                            e0, = self.pose_net_errors((x2, x3))
                        e_ba, e_rt = self.pose_net_errors((ba2d, g["ba"]), (rt2d, g["cam"]))
                    fb_ba = feedback_loss(e_ba, e0, mu_ba, s.poseaug_hardratio_std_ba, s.poseaug_feedback)
                    fb_rt = feedback_loss(e_rt, e0, mu_rt, s.poseaug_hardratio_std_rt, s.poseaug_feedback)
                    loss = loss + s.poseaug_w_feedback_ba * fb_ba + s.poseaug_w_feedback_rt * fb_rt
                    hard = [(e / e0.clamp_min(1e-6)).mean() for e in (e_ba, e_rt)]
                    for k, v in zip(("feedback_ba", "feedback_rt", "hard_ba", "hard_rt"), (fb_ba, fb_rt, *hard)):
                        logs[k].append(v.detach())
            with section("poseaug/augmentor_step"):
                self.opt_G.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.G.parameters(), 1.0)
                self.opt_G.step()
            if self.iteration % s.poseaug_d_every == 0:
                with section("poseaug/critics"):
                    logs["d3"].append(self._critic_step("D3", x3_all[idx_d], g["ba"].detach()))
                    logs["d2"].append(self._critic_step("D2", x2_all[idx_d], rt2d.detach()))
            cam3d, rt2d = g["cam"].detach(), rt2d.detach()
            with section("poseaug/buffer"):
                buf.append((rt2d, cam3d, self.valid(cam3d, g["root"].detach(), rt2d, cam)))
            ba_deg = torch.rad2deg(torch.acos((1 - g["ba_diff"].detach()).clamp(-1, 1))).mean()
            for k, v in zip(("g", "adv3", "adv2", "diff_angle", "diff_blr", "ba_deg", "blr_abs"),
                            (loss, adv3, adv2, diff_angle, diff_blr, ba_deg, g["blr"].abs().mean())):
                logs[k].append(v.detach())
            if examples is None:
                with torch.no_grad():
                    bl2d = project(g["bl"][:4] + root[:4, None], K[:4], clamp=False)
                examples = {"real": x3[:4], "real_2d": x2[:4], "ba": g["ba"][:4].detach(), "ba_2d": ba2d[:4].detach(),
                            "bl": g["bl"][:4].detach(), "bl_2d": bl2d, "final": cam3d[:4], "final_2d": rt2d[:4],
                            "cam": cam[:4]}
            self.iteration += 1
        self.epoch += 1
        ok = torch.cat([b[2] for b in buf])
        out = {"pose2d": torch.cat([b[0] for b in buf])[ok], "pose3d": torch.cat([b[1] for b in buf])[ok],
               "examples": examples}
        # one read-back per pass
        out["logs"] = {k: float(torch.stack(v).double().mean()) for k, v in logs.items() if v}
        out["logs"]["valid_fraction"] = out["valid_fraction"] = float(ok.float().mean())
        out["logs"]["lr"] = self.opt_G.param_groups[0]["lr"]
        if feedback:
            out["logs"].update(hard_target_ba=mu_ba, hard_target_rt=mu_rt)
        return out

    # --- checkpointing ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {k: getattr(self, k).state_dict() for k in self.nets}
        state.update({f"opt_{k}": getattr(self, f"opt_{k}").state_dict() for k in self.nets})
        return {**state, "pools": {k: p.state_dict() for k, p in self.pools.items()}, "rng": self.rng.get_state(),
                "iteration": self.iteration, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        state = copy.deepcopy(state)  # optimisers keep references to the tensors they are given
        for k in self.nets:
            getattr(self, k).load_state_dict(state[k])
            getattr(self, f"opt_{k}").load_state_dict(state[f"opt_{k}"])
        for k, p in self.pools.items():
            p.load_state_dict(state["pools"][k])
            if p.items is not None:
                p.items = p.items.to(self.device)
        self.rng.set_state(state["rng"].cpu())  # a checkpoint loaded with map_location="cuda"
        self.iteration, self.epoch = state["iteration"], state["epoch"]


def example_grid(examples: dict, R: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:meth:`PoseAugmenter.fit_epoch`'s examples as rows of a picture (real, BA, BA + BL, final), each
    row the same poses: world-frame 3D (4 k, 16, 3) (rotated back by the cameras ``R`` (C, 3, 3)) and 2D
    (4 k, 16, 2), for :func:`dhaug.plots.plot_pose_grid` with ``cols`` = k."""
    Rc = R[examples["cam"]]
    stages = ("real", "ba", "bl", "final")
    world = torch.cat([examples[k] @ Rc for k in stages])  # X_w = R^T X_c, row vectors
    return world, torch.cat([examples[f"{k}_2d"] for k in stages])


__all__ = ["BACKBONE", "BL_GROUP", "FEEDBACK_GROUPS", "FEEDBACK_WEIGHTS", "PARTS", "Augmentor", "FakePool",
           "PartKCSDiscriminator", "PoseAugmenter", "Schedule", "ancestors", "assemble", "bone_angle_change",
           "bone_length_change", "example_grid", "feedback_loss", "grouped_error", "hard_ratio", "kcs",
           "lsgan_critic_loss", "lsgan_generator_loss", "range_loss", "rotation_from_axis_angle"]
