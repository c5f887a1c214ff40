"""Bit-for-bit comparison of the augmentation and training code between two checkouts (used for the
refactor of issue 14: behaviour must stay the same). Run it once per checkout, then compare:

    PYTHONPATH=/path/to/old python benchmarks/bitcheck.py --out /tmp/old.pt
    PYTHONPATH=.            python benchmarks/bitcheck.py --out /tmp/new.pt
    python benchmarks/bitcheck.py --compare /tmp/old.pt /tmp/new.pt

What it records (CPU, float32, fixed seeds): two passes of the single-frame GAN and of the video GAN
(free per-frame outputs and 4 cosines; single-frame critics on all frames and on 2 random ones; motion
critics from the second pass) with their fake buffers, losses and a ``sample``; a random DH draw with
zoom; two PoseAug passes (without and with feedback); and a short synthetic ``train`` run (none, random,
dhaug, dhaug-video, poseaug) with its last-epoch metrics.
Both the old API (``GANSettings``, ``VideoDHAugmenter``) and the new one (``AugmentConfig`` settings,
``DHAugmenter(frames=T)``) are driven.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch


def real_set(n: int, T: int):
    from dhaug.camera import load_cameras
    from dhaug.kinematics import PAPER, forward_kinematics, paper_table

    S1 = torch.tensor(
        [0.133, 0.443, 0.454, 0.133, 0.443, 0.454, 0.234, 0.257, 0.182, 0.151, 0.279, 0.252, 0.151, 0.279, 0.252]
    )
    g = torch.Generator().manual_seed(0)
    lo, hi = paper_table("normal").for_model(PAPER)
    start = lo + (hi - lo) * torch.rand(n, 1, len(lo), generator=g) * 0.3
    v = start + 0.02 * torch.arange(T)[None, :, None]
    world = forward_kinematics(PAPER, v[..., : PAPER.num_dofs], S1.expand(n, T, 15))
    cams = load_cameras()["S1"]
    ci = torch.randint(4, (n,), generator=g)
    R = torch.as_tensor(np.stack([c.R for c in cams]), dtype=torch.float32)[ci]
    cam3d = world @ R[:, None].transpose(-1, -2)
    root = torch.tensor([0.0, 0.0, 5.0]).expand(n, T, 3).clone()
    if T == 1:
        cam3d, root = cam3d[:, 0], root[:, 0]
    return cams, S1[None], cam3d, root, ci, torch.arange(n) // 4


def make_gan(cams, templates, T: int, K: int, critic_frames: int):
    import dhaug.augment as A

    small = dict(gen_width=32, d3_width=32, d2_width=32, n_critic=2)
    if hasattr(A, "GANSettings"):  # the old API
        s = A.GANSettings(batch_size=32, **small)
        if T == 1:
            return A.DHAugmenter(cams, templates, settings=s, seed=0)
        return A.VideoDHAugmenter(
            cams,
            templates,
            T,
            settings=s,
            seed=0,
            motion_width=32,
            motion_start=1,
            temporal_basis=K,
            critic_frames=critic_frames,
        )
    import dhaug.config as C

    if hasattr(C, "GANConfig"):  # nested sections
        s = C.AugmentConfig(
            gan=C.GANConfig(batch_size=32, **small),
            video=C.VideoConfig(motion_width=32, motion_start=1, temporal_basis=K, critic_frames=critic_frames),
        )
    else:
        s = A.AugmentConfig(
            gan_batch_size=32, motion_width=32, motion_start=1, temporal_basis=K, critic_frames=critic_frames, **small
        )
    return A.DHAugmenter(cams, templates, settings=s, seed=0, frames=T)


def old_random_subset_sizes() -> None:
    """Undo, for the comparison, the one intended change of random mode since f760a62: its active-DOF
    subset size is now drawn from 0..n+2 (the release's 0..33), before from 0..n."""
    import inspect

    from dhaug.augment import RandomDHAugmenter  # the same name at every commit compared

    init = RandomDHAugmenter.__init__

    def patched(self, *a, **kw):
        init(self, *a, **kw)
        self.max_active = len(self.lo)

    if "len(self.lo) + 2" in inspect.getsource(init):
        RandomDHAugmenter.__init__ = patched


def record() -> dict:
    out = {}
    old_random_subset_sizes()
    torch.manual_seed(0)
    for T, K, cf in ((1, 0, 0), (5, 0, 0), (5, 4, 2)):
        cams, templates, cam3d, root, ci, seq = real_set(128, T)
        aug = make_gan(cams, templates, T, K, cf)
        extra = () if T == 1 else (seq,)
        for e in range(2):
            r = aug.fit_epoch(cam3d, root, ci, *extra, progress=False)
            for k, v in r.items():
                out[f"gan{T}_{K}_{cf}/epoch{e}/{k}"] = v
        out[f"gan{T}_{K}_{cf}/sample"] = aug.sample(40)
        out[f"gan{T}_{K}_{cf}/G"] = {k: v.clone() for k, v in aug.G.state_dict().items()}
    from dhaug.augment import RandomDHAugmenter
    from dhaug.kinematics import PAPER

    cams, templates, *_ = real_set(8, 1)
    try:
        rand = RandomDHAugmenter(
            PAPER, templates, torch.tensor([[0.0, 0.0, 0.95]]), cams, num_poses=300, seed=1, fov_range_deg=(30.0, 100.0)
        )
    except TypeError:
        rand = RandomDHAugmenter(PAPER, templates, torch.tensor([[0.0, 0.0, 0.95]]), cams, num_poses=300, seed=1)
    out["random/sample"] = rand.sample(3)
    from dhaug.augment import PoseAugmenter
    from dhaug.config import load_config as _load  # flat keys: read by every version (migrated since 2685e3e)

    cams, templates, cam3d, root, ci, _ = real_set(128, 1)
    settings = _load(
        None,
        [
            "augment.poseaug_width=16",
            "augment.poseaug_d3_width=16",
            "augment.poseaug_d2_width=16",
            "augment.poseaug_pool_size=64",
            "augment.gan_batch_size=32",
        ],
    ).augment
    pa = PoseAugmenter(cams, templates, settings, seed=0)
    pose_net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32, 48), torch.nn.Unflatten(1, (16, 3)))
    pa.attach(pose_net)
    for e in range(2):
        r = pa.fit_epoch(cam3d, root, ci, feedback=e == 1, fraction=0.5, progress=False)
        for k in ("pose2d", "pose3d", "valid_fraction"):
            out[f"poseaug/epoch{e}/{k}"] = r[k]
        out[f"poseaug/epoch{e}/logs"] = {k: v for k, v in r["logs"].items()}
    out["poseaug/G"] = {k: v.clone() for k, v in pa.G.state_dict().items()}
    from dhaug.config import load_config
    from dhaug.train import train

    base = [
        "data.dataset=synthetic",
        "data.train_subjects=[S1]",
        "data.downsample=10",
        "data.test_downsample=10",
        "model.channels=64",
        "model.stages=1",
        "train.epochs=2",
        "train.tail_epochs=0",
        "train.batch_size=256",
        "augment.gen_width=32",
        "augment.d3_width=32",
        "augment.d2_width=32",
        "augment.warmup=0",
        "augment.monitor_every=0",
        "augment.motion_width=32",
        "augment.motion_start=0",
        "augment.num_poses=500",
    ]
    from dataclasses import fields

    from dhaug.config import TrainConfig

    if "drop_last" in {f.name for f in fields(TrainConfig)}:
        base.append("train.drop_last=false")  # the old loop trained on the short last batch too
    base += ["augment.poseaug_width=16", "augment.poseaug_d3_width=16", "augment.poseaug_d2_width=16"]
    for method, frames in (("none", 1), ("random", 1), ("dhaug", 1), ("dhaug-video", 3), ("poseaug", 1)):
        with tempfile.TemporaryDirectory() as d:
            cfg = load_config(None, base + [f"augment.method={method}", f"model.frames={frames}", f"out_dir={d}"])
            res = train(cfg, progress=False)
        out[f"train/{method}"] = {k: (v["frame_mean"]["mpjpe"], v["frame_mean"]["p_mpjpe"]) for k, v in res.items()}
    return out


def compare(a: dict, b: dict) -> int:
    bad = 0
    for k in sorted(set(a) | set(b)):
        if k not in a or k not in b:
            if k.split("/")[-1] in ("md3", "md2") and (a.get(k, b.get(k)) is None):
                continue  # the old single-frame code logged no motion critics; None either way
            print(f"only in one: {k}")
            bad += 1
            continue
        x, y = a[k], b[k]
        same = _equal(x, y)
        print(f"{'same' if same else 'DIFFERENT'}  {k}")
        bad += not same
    print(f"{bad} differences")
    return bad


def _equal(x, y) -> bool:
    if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
        return isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.shape == y.shape and torch.equal(x, y)
    if isinstance(x, (tuple, list)):
        return isinstance(y, (tuple, list)) and len(x) == len(y) and all(_equal(p, q) for p, q in zip(x, y))
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(_equal(x[k], y[k]) for k in x)
    return x == y


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--compare", nargs=2)
    a = ap.parse_args()
    if a.compare:
        raise SystemExit(1 if compare(torch.load(a.compare[0]), torch.load(a.compare[1])) else 0)
    torch.set_num_threads(1)
    torch.save(record(), a.out)
    print(f"wrote {a.out}")
