"""Camera model: world <-> camera transforms, projection with H36M radial + tangential distortion,
and the VideoPose3D screen normalisation.

All functions are pure, batched over any leading shape and differentiable; the torch versions are
the reference, the ``*_np`` wrappers run them on numpy arrays (float64 inside, input dtype out).

Conventions (those of Human3.6M and ``cameras.json``):
    ``Xc = R @ (Xw - T)``  with R world->camera (3, 3) and T the camera centre in the world frame.
    Normalised screen: ``u' = 2u/w - 1``, ``v' = 2v/w - h/w`` (aspect kept, width -> [-1, 1]).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch


@dataclass(frozen=True)
class Camera:
    """One calibrated camera. Lengths in metres, pixels for f and c."""

    id: str
    R: np.ndarray  # (3, 3) world -> camera
    T: np.ndarray  # (3,) camera centre, world frame, metres
    f: np.ndarray  # (2,) focal lengths, pixels
    c: np.ndarray  # (2,) principal point, pixels
    k: np.ndarray  # (3,) radial distortion k1..k3
    p: np.ndarray  # (2,) tangential distortion p1, p2 (cameras.json order)
    res_w: int
    res_h: int

    def intrinsics(self) -> np.ndarray:
        """(9,) pixel intrinsics f(2), c(2), k(3), p(2)."""
        return np.concatenate([self.f, self.c, self.k, self.p]).astype(np.float64)

    def normalized_intrinsics(self) -> np.ndarray:
        """(9,) intrinsics in normalised screen units: f' = 2f/w, c' = normalised c."""
        f = self.f * 2.0 / self.res_w
        c = normalize_screen_np(self.c, self.res_w, self.res_h)
        return np.concatenate([f, c, self.k, self.p]).astype(np.float64)


def load_cameras(path: str | Path | None = None) -> dict[str, list[Camera]]:
    """Read cameras in the ``cameras.json`` format: ``{subject: [camera, ...]}``.

    ``path=None`` loads the official Human3.6M calibration shipped with the package.
    T is converted from millimetres to metres.
    """
    if path is None:
        text = resources.files("dhaug.data").joinpath("h36m_cameras.json").read_text()
        src = "<dhaug built-in h36m_cameras.json>"
    else:
        src = str(path)
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise FileNotFoundError(f"cannot read camera file {src}: {e.strerror}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{src}: not valid JSON ({e})") from None
    out: dict[str, list[Camera]] = {}
    for subject, cams in raw.items():
        out[subject] = [_camera_from_dict(c, f"{src}: {subject}[{i}]") for i, c in enumerate(cams)]
    return out


def _camera_from_dict(d: dict, where: str) -> Camera:
    shapes = {"R": (3, 3), "T": (3,), "f": (2,), "c": (2,), "k": (3,), "p": (2,)}
    vals = {}
    for key, shape in shapes.items():
        if key not in d:
            raise KeyError(f"{where}: missing key {key!r}")
        a = np.asarray(d[key], dtype=np.float64)
        if a.shape != shape:
            raise ValueError(f"{where}: key {key!r} has shape {a.shape}, expected {shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{where}: key {key!r} contains NaN or inf")
        vals[key] = a
    for key in ("res_w", "res_h"):
        if key not in d:
            raise KeyError(f"{where}: missing key {key!r}")
    return Camera(
        id=str(d.get("id", "")),
        R=vals["R"],
        T=vals["T"] / 1000.0,
        f=vals["f"],
        c=vals["c"],
        k=vals["k"],
        p=vals["p"],
        res_w=int(d["res_w"]),
        res_h=int(d["res_h"]),
    )


# ----------------------------------------------------------------------------------------------
# torch reference functions


def world_to_camera(X: torch.Tensor, R: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """``Xc = R (Xw - T)``.

    Args:
        X: (..., J, 3) world points.  R: (..., 3, 3).  T: (..., 3) camera centre.
    Returns:
        (..., J, 3) camera-frame points.
    """
    return torch.einsum("...ij,...nj->...ni", R, X - T.unsqueeze(-2))


def camera_to_world(X: torch.Tensor, R: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`world_to_camera`: ``Xw = R^T Xc + T``. Shapes as there."""
    return torch.einsum("...ji,...nj->...ni", R, X) + T.unsqueeze(-2)


def project(X: torch.Tensor, intrinsics: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """Project camera-frame points with the Human3.6M distortion model.

    ``(x, y) = (X, Y) / Z`` (clamped to [-1, 1] when ``clamp``), ``r^2 = x^2 + y^2``,
    ``radial = 1 + k1 r^2 + k2 r^4 + k3 r^6``, ``tan = p1 y + p2 x``,
    ``(x', y') = (x, y)(radial + tan) + (p2, p1) r^2``, output ``f (x', y') + c``.

    Args:
        X: (..., J, 3) camera-frame points (Z > 0).
        intrinsics: (..., 9) = f(2), c(2), k(3), p(2); pixel or normalised units alike.
    Returns:
        (..., J, 2) image points in the units of ``intrinsics``.
    """
    intr = intrinsics.unsqueeze(-2)
    f, c, k, p = intr[..., 0:2], intr[..., 2:4], intr[..., 4:7], intr[..., 7:9]
    xy = X[..., :2] / X[..., 2:3]
    if clamp:
        xy = xy.clamp(-1.0, 1.0)
    r2 = (xy**2).sum(-1, keepdim=True)
    radial = 1 + k[..., 0:1] * r2 + k[..., 1:2] * r2**2 + k[..., 2:3] * r2**3
    tan = p[..., 0:1] * xy[..., 1:2] + p[..., 1:2] * xy[..., 0:1]
    xy_d = xy * (radial + tan) + p.flip(-1) * r2
    return f * xy_d + c


def with_focal(intrinsics: torch.Tensor, focal: torch.Tensor) -> torch.Tensor:
    """Normalised intrinsics (..., 9) with the horizontal focal length replaced by ``focal`` (...,)
    (normalised units, ``2 f / w``); ``fy`` keeps its ratio to ``fx``, the principal point and the
    distortion are kept. A camera that zooms in or out without moving."""
    K = intrinsics.clone()
    K[..., 1] = intrinsics[..., 1] * focal / intrinsics[..., 0]
    K[..., 0] = focal
    return K


def focal_from_fov(fov_deg: torch.Tensor) -> torch.Tensor:
    """Normalised focal length ``2 f / w = 1 / tan(fov / 2)`` of a horizontal field of view in degrees."""
    return 1.0 / torch.tan(torch.deg2rad(torch.as_tensor(fov_deg)) / 2)


def random_focals(
    n: int, fov_range_deg: tuple[float, float], generator: torch.Generator | None = None, dtype=torch.float32
) -> torch.Tensor:
    """(n,) normalised focal lengths of horizontal fields of view drawn uniformly from ``fov_range_deg``."""
    lo, hi = fov_range_deg
    if not 0 < lo <= hi < 180:
        raise ValueError(f"field-of-view range must satisfy 0 < lo <= hi < 180 degrees, got {fov_range_deg}")
    fov = lo + (hi - lo) * torch.rand(n, generator=generator, dtype=dtype)
    return focal_from_fov(fov)


def _screen_params(X: torch.Tensor, w, h):
    w = torch.as_tensor(w, dtype=X.dtype, device=X.device)
    h = torch.as_tensor(h, dtype=X.dtype, device=X.device)
    w = w.reshape(1) if w.ndim == 0 else w.unsqueeze(-1)
    h = h.reshape(1) if h.ndim == 0 else h.unsqueeze(-1)
    return w, torch.cat([torch.ones_like(h / w), h / w], -1)


def normalize_screen(X: torch.Tensor, w, h) -> torch.Tensor:
    """Pixels -> VideoPose3D normalised screen ``X/w*2 - [1, h/w]``.

    Args:
        X: (..., 2) pixels.  w, h: image size, scalars or tensors broadcastable to ``X.shape[:-1]``.
    """
    w, offset = _screen_params(X, w, h)
    return X / w * 2 - offset


def unnormalize_screen(X: torch.Tensor, w, h) -> torch.Tensor:
    """Inverse of :func:`normalize_screen`; same shapes."""
    w, offset = _screen_params(X, w, h)
    return (X + offset) * w / 2


# ----------------------------------------------------------------------------------------------
# numpy wrappers


def _np(fn, *arrays, **kw):
    first = np.asarray(arrays[0])
    dtype = first.dtype if first.dtype.kind == "f" else np.dtype(np.float64)
    out = fn(*[torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in arrays], **kw)
    return out.numpy().astype(dtype)


def world_to_camera_np(X, R, T) -> np.ndarray:
    return _np(world_to_camera, X, R, T)


def project_np(X, intrinsics, clamp: bool = True) -> np.ndarray:
    return _np(project, X, intrinsics, clamp=clamp)


def normalize_screen_np(X, w, h) -> np.ndarray:
    return _np(normalize_screen, X, w, h)


def camera_to_upright(pose: np.ndarray) -> np.ndarray:
    """Camera axes (x right, y down, z forward) -> Z-up axes (x right, y forward, z up), e.g. to draw a
    camera-frame pose standing; the camera's tilt stays. (..., 3) -> (..., 3)."""
    return np.stack([pose[..., 0], pose[..., 2], -pose[..., 1]], -1)
