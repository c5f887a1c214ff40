"""Typed experiment configuration: dataclasses, loaded from YAML, overridden with ``key=value``.

    cfg = load_config("configs/quick_vpose.yaml", ["train.epochs=3", "model.name=mlp"])

Unknown keys and values of the wrong type are rejected with a message naming the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Optional

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .errors import ConfigError
from .registry import AUGMENT_METHODS


@dataclass
class DataConfig:
    #: ``h36m`` (real data from ``data_dir``) or ``synthetic`` (built-in demo data, no files).
    dataset: str = "h36m"
    #: Folder holding ``data_3d_h36m.npz`` and ``data_2d_h36m_<source>.npz``.
    data_dir: Optional[str] = None
    #: 2D input source: ``gt`` (projected ground truth), ``sh``, ``cpn``, ``det``, ``hr`` or a file suffix.
    keypoints: str = "gt"
    train_subjects: list[str] = field(default_factory=lambda: ["S1", "S5", "S6", "S7", "S8"])
    test_subjects: list[str] = field(default_factory=lambda: ["S9", "S11"])
    #: Keep every k-th frame of the training sequences.
    downsample: int = 1
    #: Keep every k-th frame of the H36M test sequences (1 = the full protocol).
    test_downsample: int = 1
    #: Action groups to keep (None = all).
    actions: Optional[list[str]] = None
    #: Cross-dataset test files (``cmu_test.npz`` or ``test_3dhp.npz`` format).
    cross_sets: list[str] = field(default_factory=list)
    #: Test-time flip averaging on the cross-dataset sets (the 3DHP protocol of method.md §9).
    cross_flip_test: bool = True
    #: Train on generated data instead of the ``train_subjects`` (``dhaug generate`` output: a ``--format cross``
    #: npz, or any cross-dataset file, or a ``--format videopose3d`` folder); ``dataset`` / ``data_dir`` still
    #: give the test sets. Needs ``downsample`` 1 and ``augment.method`` none. None = the dataset's own subjects.
    train_file: Optional[str] = None


@dataclass
class ModelConfig:
    #: ``videopose`` (VideoPose3D), ``mlp`` (SimpleBaseline), ``semgcn``, ``stgcn`` (single-frame ST-GCN) or
    #: ``poseformer``.
    name: str = "videopose"
    #: Input frames per prediction (the centre frame is predicted). 1 = single-frame; videopose needs
    #: a power of 3 (9 = architecture 3,3; 27 = 3,3,3; 81 = 3,3,3,3) unless ``architecture`` is given.
    frames: int = 1
    #: VideoPose3D filter widths (e.g. [3, 3]); None = derived from ``frames``.
    architecture: Optional[list[int]] = None
    channels: int = 1024
    stages: int = 4
    dropout: float = 0.25
    #: SemGCN's width; ST-GCN's joint-level widths are (h, h, 2h) and its part-level width 4h (h = 128:
    #: PoseAug's single-frame ST-GCN).
    gcn_hidden: int = 128
    gcn_blocks: int = 4
    # PoseFormer (method.md §8)
    embed_ratio: int = 32
    depth: int = 4
    heads: int = 8
    mlp_ratio: float = 2.0
    drop_path: float = 0.1


@dataclass
class TrainConfig:
    #: Epochs of linear LR decay ``lr * (1 - e / (epochs + 1))``.
    epochs: int = 50
    #: ``linear`` (the decay above) or ``constant`` (``lr`` throughout those epochs, as PoseAug's
    #: pre-training; the tail is the same).
    lr_decay: str = "linear"
    #: Further epochs, each multiplying the LR by ``tail_decay`` (method.md §5: 60 x 0.95).
    tail_epochs: int = 60
    tail_decay: float = 0.95
    lr: float = 1e-4
    batch_size: int = 1024
    #: Second optimiser step on the mirrored pair of every batch.
    flip: bool = True
    #: Multi-frame models: a further step on the time-reversed window (and its mirror), as the paper.
    time_reverse: bool = True
    #: ... also on the generated windows (off: the video GAN's motion critics already see reversed real
    #: sequences, so its output is as likely played backwards; saves a quarter of the pose net's time).
    time_reverse_synthetic: bool = False
    grad_clip: float = 1.0
    #: Pose-net loss on root-relative 3D: ``mse``, ``mpjpe`` or ``auto`` (the paper's: MSE for
    #: single-frame models, method.md §5; MPJPE for multi-frame ones, §6).
    loss: str = "auto"
    seed: int = 0
    #: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
    device: str = "auto"
    eval_batch_size: int = 8192
    #: CPU threads for torch (0 = torch's default).
    threads: int = 0
    #: Evaluate on the test sets after every epoch (for curves; the reported number is the last epoch).
    eval_every_epoch: bool = False
    #: ... on every k-th test frame only (curves are cheap; the final evaluation uses all frames).
    curve_every: int = 1
    #: Forward passes of training steps: ``fp32``, ``bf16`` (autocast; weights, optimiser and loss stay
    #: float32) or ``auto`` (bf16 on CUDA and on CPUs with native bf16, else fp32). Evaluation is float32.
    precision: str = "fp32"
    #: ``adam`` or ``amsgrad`` (VideoPose3D's choice).
    optimizer: str = "adam"
    #: On CUDA: deterministic cuDNN kernels (no autotuning), so reruns match; slower. No effect on CPU,
    #: which is deterministic already.
    deterministic: bool = False
    #: Skip each pass's trailing batch when it is smaller than ``batch_size`` (the shuffle changes every
    #: epoch, so its pairs are trained on in other epochs). A short last batch gave BatchNorm noisy
    #: statistics, a 13x loss and a 30x gradient in one step, and Adam turned that into a spike of the
    #: test error (issue 11); ``false``: every pair every epoch, as before.
    drop_last: bool = True
    #: Synthetic pairs in training: ``mixed``: one pass over real and synthetic pairs shuffled together,
    #: so BatchNorm sees one input distribution (single-frame models); ``separate`` (the paper, method.md
    #: §5/§7): each epoch a pass over them, then one over the real pairs, every batch of one kind;
    #: ``auto``: mixed for single-frame models, separate for multi-frame ones. Separate passes left a
    #: random-augmented VideoPose with real-pass statistics that doubled its cross-dataset error
    #: (benchmarks/results/bn_stats_videopose_random_s0.md); mixed was better on the validation split
    #: for random and DH-AUG poses alike (benchmarks/results/medium.md).
    synthetic_batches: str = "auto"
    #: Run the pose net through ``torch.compile`` (needs a C++ compiler on the CPU, Triton on CUDA). Off by
    #: default: on a 2-core CPU it compiled for ~35 s and stepped no faster than eager
    #: (benchmarks/results/throughput.md); try it on a GPU.
    compile: bool = False

    def mixed_batches(self, frames: int) -> bool:
        """Whether synthetic pairs are shuffled into the real pass for a ``frames``-frame model."""
        return self.synthetic_batches == "mixed" or (self.synthetic_batches == "auto" and frames == 1)


#: Allowed values, defined once (read by :func:`validate`, the command line and the writers).
BODY_MODELS = ("paper", "clavicle")
#: The shipped limit tables (by name, no training data needed) and every ``augment.limits`` value.
NAMED_LIMITS = ("normal", "gan", "h36m")
LIMIT_TABLES = ("auto", *NAMED_LIMITS, "data")
PRECISIONS = ("auto", "fp32", "bf16")
SYNTHETIC_BATCHES = ("auto", "separate", "mixed")
LR_DECAYS = ("linear", "constant")
POSEAUG_LR = ("decay", "follow")
POSEAUG_FEEDBACK = ("range", "paper")
POSEAUG_FEEDBACK_MODE = ("eval", "train")


@dataclass
class GANConfig:
    """``augment.gan``: the DH-AUG GAN (methods ``dhaug`` and ``dhaug-video``); sizes of method.md §3-§5."""

    #: GAN-only epochs: the pose net trains from epoch index ``warmup + 1`` on (paper: 2 single-frame;
    #: video mode 24, i.e. the release's ``--warmup 20`` plus its 4 single-critic epochs).
    warmup: int = 2
    gen_width: int = 256
    d3_width: int = 256
    d2_width: int = 256
    noise_dim: int = 128
    n_critic: int = 5
    gp_lambda: float = 10.0
    #: Interpolates per 3D/2D critic step in the gradient penalty: 0 = one per pair of the batch (WGAN-GP, the
    #: paper); n > 0 = the first n pairs of the (shuffled) batch, an estimate of the same expectation from fewer
    #: samples (the penalty's double backward is about half a critic step's arithmetic).
    gp_samples: int = 0
    #: Adam learning rate and betas of the generator and every critic.
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.9])
    #: Weights of the 3D and 2D critics' scores in the generator loss.
    w3d: float = 1.0
    w2d: float = 0.2
    #: GAN batch size (0 = train.batch_size in training; 1024 for a DHAugmenter made alone).
    batch_size: int = 0
    #: A second critic step on the mirrored real and fake poses.
    mirror: bool = True
    #: Where ``augment.bone_scale`` applies: ``false`` (paper) — to the generated poses' bones only, so the
    #: critics' real poses keep the exact templates and the 3D critic's kinematic stream can tell fakes by
    #: their lengths, which the generator cannot change; ``true`` — once, per sequence, to the real critic
    #: data's bones, which the generator then uses as they are: real and generated bones share one
    #: distribution (the pose net's synthetic pairs get the same lengths either way).
    scale_real_bones: bool = False
    #: Forward passes of the DH-AUG GAN's networks (FK, cameras and the pairs stay float32): ``fp32``
    #: (default: every reported row), ``bf16`` (autocast; the pass ran ~1.8-3.4x faster on CPUs with native
    #: bf16, but at the medium protocol its WGAN-GP critics diverged and the DH-AUG gain was lost:
    #: benchmarks/results/speed.md) or ``auto`` (bf16 on CUDA and CPUs with native bf16, else fp32).
    precision: str = "fp32"


@dataclass
class VideoConfig:
    """``augment.video``: DH-AUG's video mode (method.md §6) and the random sequences' smoothness."""

    #: Width of the 3D and 2D motion critics (paper default 1000).
    motion_width: int = 1000
    #: GAN epoch (0-based) from which the motion critics train and enter the generator loss (paper: 4).
    motion_start: int = 4
    #: Video generator: 0 = free per-frame outputs (paper: they jitter); K > 0 = the K slowest cosines
    #: per output over the window (smooth by construction; ours); -1 = auto, round(0.45 T) (T=9: 4).
    temporal_basis: int = -1
    #: Frames of each sequence the single-frame critics see per step: 0 = all T (paper); k > 0 = k
    #: frames drawn at random per sequence (ours: cuts the GAN's cost by ~T/k on CPU).
    critic_frames: int = 0


@dataclass
class PoseAugConfig:
    """``augment.poseaug``: PoseAug (method ``poseaug``; docs/augment/poseaug.md)."""

    #: GAN epochs without feedback and without augmented pairs (PoseAug's 2).
    warmup: int = 2
    #: Adam learning rate of the augmentor and both discriminators (default betas, as released).
    lr: float = 1e-4
    #: Batch size of its passes (0 = train.batch_size in training; 1024 for a PoseAugmenter made alone).
    batch_size: int = 0
    #: Pose-net epochs on real data alone before the first augmented pairs, within train.epochs +
    #: train.tail_epochs (-1 = half of them: PoseAug's 50 pre-training + 50 PoseAug epochs); the
    #: ``warmup`` GAN epochs overlap the last of them.
    pretrain_epochs: int = -1
    #: Augmentor MLP width and noise size per head; 3D discriminator (KCS path) and 2D discriminator widths.
    width: int = 256
    noise_dim: int = 48
    d3_width: int = 256
    d2_width: int = 100
    #: BA: the mean over the bones of (1 - cos) of their direction changes is kept in m +- w (0.04..0.37:
    #: 1 - cos of 16..51 degrees).
    ba_range_m: float = 0.205
    ba_range_w: float = 0.165
    #: BA keeps the pelvis->spine->thorax bones' directions (the released code; false: the paper's BA).
    fix_backbone: bool = True
    #: BL: length ratios limited to +- blr_tanhlimit by tanh, penalised beyond +- blr_limit.
    blr_tanhlimit: float = 0.2
    blr_limit: float = 0.1
    #: RT: the new pelvis depth range (metres) and the central screen fraction it projects into.
    depth_range: list[float] = field(default_factory=lambda: [2.5, 8.0])
    screen_margin: float = 0.7
    #: Augmentor loss weights: 3D and 2D adversarial, range difference (BA range + BL limit), BL limit
    #: inside it, and the feedback of the BA pair and of the final pair.
    w_d3d: float = 6.0
    w_d2d: float = 1.0
    w_diff: float = 3.0
    w_blr: float = 1.0
    w_feedback_ba: float = 0.1
    w_feedback_rt: float = 0.01
    #: Feedback: ``range`` (released code: the hardness = pose-net error ratio augmented / original
    #: within mu +- std) or ``paper`` (|1 - exp(e_aug - mu e_orig)|).
    feedback: str = "range"
    #: Hardness target mu [start, end] (linear over the GAN epochs) and its accepted spread, for the BA
    #: pair and the final (BA+BL+RT) pair: BA 3 -> 5 +- 2, RT 17 +- 15.
    hardratio_ba: list[float] = field(default_factory=lambda: [3.0, 5.0])
    hardratio_std_ba: float = 2.0
    hardratio_rt: list[float] = field(default_factory=lambda: [17.0, 17.0])
    hardratio_std_rt: float = 15.0
    #: Discriminator step every this many augmentor steps; pool of past fakes (0 = none).
    d_every: int = 2
    pool_size: int = 4096
    #: Each epoch, the real poses the augmentor and the discriminators see get a random training
    #: subject's bone lengths (the release's bone swap).
    swap_bones: bool = True
    #: 0: the pose net keeps the harness's LR schedule (as every method); > 0: PoseAug's choice — from
    #: the first GAN epoch this LR (its VideoPose/SimpleBaseline value: 1e-4), decayed linearly.
    pose_lr: float = 0.0
    #: LR of the augmentor and discriminators: ``decay`` — ``lr`` decayed linearly over the GAN epochs,
    #: whatever the pose net's LR does; ``follow`` — ``lr`` at the first GAN epoch, then scaled as the
    #: pose net's LR (the release decays all its networks' LRs together, one LambdaLR; issue 27 (a)).
    lr_policy: str = "decay"
    #: The pose net's mode inside the feedback loss: ``eval`` (ours: BatchNorm's running statistics, no
    #: dropout) or ``train`` (the release: batch statistics, dropout on, running statistics updated).
    feedback_mode: str = "eval"
    #: Forward passes of the augmentor, both discriminators and the pose net's feedback (the bone
    #: operations, rotation, projection and the pairs stay float32): ``fp32``, ``bf16`` (autocast) or
    #: ``auto`` (bf16 on CUDA and CPUs with native bf16, else fp32); as ``gan.precision`` for DH-AUG. One
    #: medium seed in bf16: pass 1.9x faster, H36M 2.2 mm worse than the fp32 rows (benchmarks/results/speed.md).
    precision: str = "fp32"


@dataclass
class AugmentConfig:
    #: ``none``, ``random`` (random DH poses, the paper's "normal" mode, method.md §7; with
    #: model.frames > 1 smooth random DH sequences, the video baseline), ``dhaug``
    #: (the DH-AUG GAN, method.md §3-§5), ``dhaug-video`` (its video mode, §6; needs model.frames > 1) or
    #: ``poseaug`` (PoseAug, Gong et al. CVPR 2021: a learned augmentor of the real poses; single frames;
    #: docs/augment/poseaug.md documents every choice).
    method: str = "none"
    #: FK body model: ``paper`` (faithful) or ``clavicle`` (2 clavicle DOFs per side).
    body_model: str = "paper"
    #: Angle limits: ``normal`` (the paper's random-mode column), ``gan`` (the intended GAN column),
    #: ``h36m`` (shipped: 0.5-99.5 % of IK angles over the H36M training subjects), ``data`` (the same
    #: computed from this run's training poses, widened by ``limit_margin_deg``, cut to ``gan``) or
    #: ``auto`` (random: ``normal``; dhaug: ``data``).
    limits: str = "auto"
    limit_margin_deg: float = 10.0
    #: Zoom augmentation: synthetic pairs (and, for dhaug, the critics' real 2D) are seen with a horizontal
    #: field of view drawn uniformly from this range in degrees instead of the training camera's own
    #: (~47 deg for Human3.6M). ``null``: the training cameras' intrinsics, as in the paper.
    fov_range_deg: Optional[list[float]] = field(default_factory=lambda: [30.0, 100.0])
    #: Synthetic poses drawn per epoch; each is projected into every training camera.
    num_poses: int = 10000
    #: Bone-group scale range: lengths x (1 + U[-bone_scale, bone_scale)).
    bone_scale: float = 0.2
    #: Standard deviation (degrees) of the clipped normal draw around each range's middle.
    sigma_deg: float = 60.0
    #: Random sequences (method ``random`` with model.frames > 1): amplitude (degrees) of the slowest
    #: cosine of each active DOF's trajectory over the window (the k-th: motion_deg / k).
    motion_deg: float = 15.0
    #: Reject synthetic pairs with any joint closer to the camera than this (metres).
    min_depth: float = 0.5
    #: Draw the GAN's poses (DH-AUG: and DOF histograms; into OUT/gan or OUT/poseaug) every this many epochs (0 = never).
    monitor_every: int = 1
    gan: GANConfig = field(default_factory=GANConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    poseaug: PoseAugConfig = field(default_factory=PoseAugConfig)

    def updated(self, **changes) -> "AugmentConfig":
        """A copy with ``changes``: common fields by name, section fields by their flat names
        (:data:`RENAMED`, e.g. ``temporal_basis=3``, ``gan_batch_size=64``) or as whole sections."""
        nested = renamed({"augment": changes})["augment"]
        sections = {
            k: replace(getattr(self, k), **nested.pop(k))
            for k in ("gan", "video", "poseaug")
            if isinstance(nested.get(k), dict)
        }
        return replace(self, **nested, **sections)


#: Flat ``augment`` keys of earlier versions -> their places in the sections (configs, checkpoints and
#: ``key=value`` overrides written with the old names keep working). Keys shared by both GANs go to both.
RENAMED = {
    "warmup": ("gan.warmup", "poseaug.warmup"),
    "gan_lr": ("gan.lr", "poseaug.lr"),
    "gan_batch_size": ("gan.batch_size", "poseaug.batch_size"),
    "gan_precision": ("gan.precision",),
    **{
        k: (f"gan.{k}",)
        for k in (
            "gen_width",
            "d3_width",
            "d2_width",
            "noise_dim",
            "n_critic",
            "gp_lambda",
            "betas",
            "w3d",
            "w2d",
            "mirror",
        )
    },
    **{k: (f"video.{k}",) for k in ("motion_width", "motion_start", "temporal_basis", "critic_frames")},
    "poseaug_lr": ("poseaug.lr_policy",),
    **{
        f"poseaug_{f.name}": (f"poseaug.{f.name}",)
        for f in fields(PoseAugConfig)
        if f.name not in ("warmup", "lr", "batch_size", "lr_policy", "precision")  # precision: added later
    },
}


@dataclass
class ExperimentConfig:
    name: str = "experiment"
    #: Output folder; checkpoints, TensorBoard logs, results and pictures go here.
    out_dir: str = "runs/experiment"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def load_config(
    path: str | Path | dict | None = None, overrides: list[str] | None = None, updates: dict | None = None
) -> ExperimentConfig:
    """Defaults, then the YAML file (after the files its ``_base_`` names) or dict (if any), then
    ``key=value`` overrides (dotted keys), then ``updates`` (a nested dict, for values set by code such as
    lists of paths)."""
    base = OmegaConf.structured(ExperimentConfig)
    layers = [base]
    if isinstance(path, dict):
        layers.append(_create(migrate_saved(path), "saved config"))
    elif path is not None:
        layers += _yaml_layers(Path(path), ())
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value (e.g. train.epochs=5)")
        key, value = item.split("=", 1)
        one = OmegaConf.to_container(OmegaConf.from_dotlist([f"{key}={value}"]))
        assert isinstance(one, dict)  # a dotted key makes a mapping
        layers.append(_create(one, f"override {item!r}"))
    if updates:
        layers.append(_create(updates, "command-line options"))
    try:
        merged = OmegaConf.merge(*layers)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as e:
        raise ConfigError(_omega_message(e)) from None
    assert isinstance(cfg, ExperimentConfig)  # the structured schema is the first layer
    validate(cfg)
    return cfg


#: The backbones of :func:`dhaug.models.build_model`.
MODEL_NAMES = ("videopose", "mlp", "semgcn", "stgcn", "poseformer")


#: Fields added after configs were first saved in checkpoints, with the value that reproduces how
#: those earlier runs trained (a field whose default already does so needs no entry).
SAVED_BEFORE = {("train", "drop_last"): False}


def migrate_saved(saved: dict) -> dict:
    """A config dict saved by an earlier version (in a checkpoint or results.json) -> today's keys:
    a section that was saved whole but lacks a later field gets the value of :data:`SAVED_BEFORE`,
    so an old run resumes and re-evaluates exactly as it trained."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in saved.items()}
    if not all(isinstance(out.get(k), dict) for k in ("data", "model", "train", "augment")):
        return out  # not a whole saved config (e.g. a partial dict of overrides): nothing to migrate
    for (section, key), value in SAVED_BEFORE.items():
        out[section].setdefault(key, value)
    return out


def _yaml_layers(p: Path, seen: tuple[Path, ...]) -> list:
    """The layers of YAML file ``p``: those of the files its ``_base_`` names (one path or a list, relative to
    ``p``'s folder; each read the same way), then its own keys over them."""
    if not p.is_file():
        raise ConfigError(f"config file {p} not found" + (f" (the _base_ of {seen[-1]})" if seen else ""))
    if p.resolve() in seen:
        raise ConfigError(f"{p}: _base_ files include each other ({' -> '.join(map(str, seen))})")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({e})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of config keys")
    bases = raw.pop("_base_", [])
    layers = []
    for base in [bases] if isinstance(bases, str) else bases:
        layers += _yaml_layers(p.parent / base, seen + (p.resolve(),))
    return layers + [_create(raw, str(p))]


def renamed(raw: dict) -> dict:
    """A config dict (YAML, saved, or one override) with the flat ``augment`` keys of earlier versions
    moved into their sections (:data:`RENAMED`); other keys untouched."""
    aug = raw.get("augment")
    if not isinstance(aug, dict) or not any(k in RENAMED for k in aug):
        return raw
    aug = {k: (dict(v) if isinstance(v, dict) else v) for k, v in aug.items()}
    for old in [k for k in aug if k in RENAMED]:
        value = aug.pop(old)
        for place in RENAMED[old]:
            section, key = place.split(".")
            aug.setdefault(section, {})[key] = value
    return {**raw, "augment": aug}


def _create(raw: dict, where: str):
    raw = renamed(raw)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ExperimentConfig), OmegaConf.create(raw))
    except OmegaConfBaseException as e:
        raise ConfigError(f"{where}: {_omega_message(e)}") from None
    del merged
    return OmegaConf.create(raw)


def _omega_message(e: OmegaConfBaseException) -> str:
    msg = str(e).splitlines()[0]
    key = getattr(e, "full_key", None)
    return f"config key {key!r}: {msg}" if key else msg


def validate(cfg: ExperimentConfig) -> None:
    """Range checks that types alone cannot express."""
    MODELS = MODEL_NAMES

    checks = [
        (cfg.data.dataset in ("h36m", "synthetic"), "data.dataset must be 'h36m' or 'synthetic'"),
        (
            cfg.train.lr_decay in LR_DECAYS,
            f"train.lr_decay must be one of {LR_DECAYS}, got {cfg.train.lr_decay!r}",
        ),
        (
            cfg.train.synthetic_batches in SYNTHETIC_BATCHES,
            f"train.synthetic_batches must be one of {SYNTHETIC_BATCHES}, got {cfg.train.synthetic_batches!r}",
        ),
        (
            cfg.train.synthetic_batches != "mixed" or cfg.model.frames == 1,
            "train.synthetic_batches = 'mixed' is for single-frame models (model.frames = 1) for now",
        ),
        (cfg.data.downsample >= 1, "data.downsample must be >= 1"),
        (
            cfg.data.train_file is None or cfg.data.downsample == 1,
            f"data.downsample = {cfg.data.downsample} subsamples the dataset's training sequences; with data.train_file "
            "it must be 1 (generate fewer poses instead)",
        ),
        (
            cfg.data.train_file is None or cfg.augment.method == "none",
            f"augment.method = {cfg.augment.method!r} draws on the dataset's training subjects; with data.train_file "
            "(already generated data) it must be 'none'",
        ),
        (cfg.data.test_downsample >= 1, "data.test_downsample must be >= 1"),
        (len(cfg.data.train_subjects) > 0, "data.train_subjects is empty"),
        (cfg.model.name in MODELS, f"model.name must be one of {', '.join(MODELS)}"),
        (
            cfg.model.frames >= 1 and cfg.model.frames % 2 == 1,
            f"model.frames must be odd and >= 1, got {cfg.model.frames}",
        ),
        (0 <= cfg.model.dropout < 1, "model.dropout must be in [0, 1)"),
        (cfg.train.epochs >= 0 and cfg.train.tail_epochs >= 0, "train.epochs and train.tail_epochs must be >= 0"),
        (cfg.train.epochs + cfg.train.tail_epochs > 0, "train.epochs + train.tail_epochs must be > 0"),
        (cfg.train.lr > 0, "train.lr must be > 0"),
        (cfg.train.batch_size > 0, "train.batch_size must be > 0"),
        (
            cfg.train.precision in PRECISIONS,
            f"train.precision must be one of {PRECISIONS}, got {cfg.train.precision!r}",
        ),
        (
            cfg.augment.gan.precision in PRECISIONS,
            f"augment.gan.precision must be one of {PRECISIONS}, got {cfg.augment.gan.precision!r}",
        ),
        (
            cfg.augment.poseaug.precision in PRECISIONS,
            f"augment.poseaug.precision must be one of {PRECISIONS}, got {cfg.augment.poseaug.precision!r}",
        ),
        (
            cfg.train.optimizer in ("adam", "amsgrad"),
            f"train.optimizer must be 'adam' or 'amsgrad', got {cfg.train.optimizer!r}",
        ),
        (cfg.train.curve_every >= 1, "train.curve_every must be >= 1"),
        (
            cfg.train.loss in ("auto", "mse", "mpjpe"),
            f"train.loss must be 'auto', 'mse' or 'mpjpe', got {cfg.train.loss!r}",
        ),
        (
            cfg.augment.method in AUGMENT_METHODS,
            f"augment.method must be one of {', '.join(AUGMENT_METHODS)}, got {cfg.augment.method!r}",
        ),
        (cfg.augment.body_model in BODY_MODELS, f"augment.body_model must be one of {BODY_MODELS}"),
        (cfg.augment.limits in LIMIT_TABLES, f"augment.limits must be one of {LIMIT_TABLES}"),
        (
            cfg.augment.fov_range_deg is None
            or (
                len(cfg.augment.fov_range_deg) == 2
                and 0 < cfg.augment.fov_range_deg[0] <= cfg.augment.fov_range_deg[1] < 180
            ),
            f"augment.fov_range_deg must be null or [lo, hi] with 0 < lo <= hi < 180, got {cfg.augment.fov_range_deg}",
        ),
        (cfg.augment.num_poses > 0, "augment.num_poses must be > 0"),
        (cfg.augment.gan.gp_samples >= 0, f"augment.gan.gp_samples must be >= 0, got {cfg.augment.gan.gp_samples}"),
    ]
    frames, method = cfg.model.frames, cfg.augment.method
    checks += [
        (
            not (frames > 1 and method == "dhaug"),
            f"augment.method = 'dhaug' makes single frames; model.frames = {frames} "
            "needs sequences (augment.method = none, random or dhaug-video)",
        ),
        (
            not (frames == 1 and method == "dhaug-video"),
            "augment.method = 'dhaug-video' makes sequences: set model.frames "
            "(e.g. 9) or use augment.method = dhaug for single frames",
        ),
    ]
    if method == "poseaug":
        a, E = cfg.augment.poseaug, cfg.train.epochs + cfg.train.tail_epochs
        checks += [
            (frames == 1, f"augment.method = 'poseaug' augments single frames; model.frames = {frames} needs 1"),
            (
                -1 <= a.pretrain_epochs < E,
                f"augment.poseaug.pretrain_epochs = {a.pretrain_epochs}: "
                f"must be -1 (auto) or 0..{E - 1} (train.epochs + train.tail_epochs = {E}; PoseAug needs a joint epoch)",
            ),
            (a.warmup >= 0, f"augment.poseaug.warmup must be >= 0, got {a.warmup}"),
            (
                a.feedback in POSEAUG_FEEDBACK,
                f"augment.poseaug.feedback must be one of {POSEAUG_FEEDBACK}, got {a.feedback!r}",
            ),
            (a.lr_policy in POSEAUG_LR, f"augment.poseaug.lr_policy must be one of {POSEAUG_LR}, got {a.lr_policy!r}"),
            (
                a.feedback_mode in POSEAUG_FEEDBACK_MODE,
                f"augment.poseaug.feedback_mode must be one of {POSEAUG_FEEDBACK_MODE}, got {a.feedback_mode!r}",
            ),
            (
                a.d_every >= 1 and a.pool_size >= 0,
                "augment.poseaug.d_every must be >= 1 and augment.poseaug.pool_size >= 0",
            ),
            (
                len(a.depth_range) == 2 and 0 < a.depth_range[0] <= a.depth_range[1],
                f"augment.poseaug.depth_range must be [near, far] with 0 < near <= far, got {a.depth_range}",
            ),
            (
                len(a.hardratio_ba) == 2 and len(a.hardratio_rt) == 2,
                "augment.poseaug.hardratio_ba and hardratio_rt must be [start, end]",
            ),
        ]
    for ok, msg in checks:
        if not ok:
            raise ConfigError(msg)


def save_config(cfg: ExperimentConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
