"""Synthetic camera rigs: four Human3.6M-like cameras per subject, and the cross-dataset set's cameras."""

from __future__ import annotations

import numpy as np

from dhaug.camera import Camera


def _look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    """World->camera rotation (rows x right, y down, z forward), zero roll, for Z-up worlds."""
    z = target - centre
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def _visible(points: np.ndarray, R, T, f, c, w, h, margin=4.0, zmin=0.1) -> bool:
    """All points (N, 3) world metres in front of the camera and inside the image (no distortion)."""
    Xc = (points - T) @ R.T
    if np.any(Xc[:, 2] <= zmin):
        return False
    uv = Xc[:, :2] / Xc[:, 2:3] * f + c
    return bool(np.all(uv >= margin) and np.all(uv[:, 0] <= w - margin) and np.all(uv[:, 1] <= h - margin))


def _draw_h36m_cameras(rng: np.random.Generator, points: np.ndarray, n: int = 4) -> list[Camera]:
    """Four Human3.6M-like static cameras that see every point; re-drawn (farther away) if not."""
    base = rng.uniform(-10, 10)
    cams = []
    for i in range(n):
        for attempt in range(200):
            az = np.deg2rad(base + 45 + 90 * i + rng.uniform(-12, 12))
            dist = rng.uniform(4.5, 6.0) + 0.05 * attempt
            height = rng.uniform(1.2, 1.8)
            centre = np.array([dist * np.cos(az), dist * np.sin(az), height])
            target = np.array([rng.uniform(-0.25, 0.25), rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.1)])
            R = _look_at(centre, target)
            fx = rng.uniform(1140, 1150)
            f = np.array([fx, fx - rng.uniform(0, 3)])
            c = np.array([500.0, 500.0])
            if _visible(points, R, centre, f, c, 1000, 1000):
                break
        else:  # pragma: no cover - geometry makes this unreachable for the built-in motions
            raise RuntimeError("could not place a synthetic camera that sees the whole motion")
        cams.append(Camera(id=f"syn{i}", R=R, T=centre, f=f, c=c, k=np.zeros(3), p=np.zeros(2), res_w=1000, res_h=1000))
    return cams


_ZUP_TO_YUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _draw_cross_camera(
    rng: np.random.Generator,
    points: np.ndarray,
    target_xy: np.ndarray,
    az_deg: float,
    height_range: tuple[float, float],
):
    res_choices = ((1000, 1000), (1920, 1080), (2048, 2048))
    for attempt in range(500):
        relax = min(attempt / 100.0, 1.0)  # after many misses prefer far cameras with short focals
        w, h = res_choices[int(rng.integers(len(res_choices)))]
        dist = rng.uniform(3.5 + 2.5 * relax, 7.0)
        height = rng.uniform(*height_range)
        fx = rng.uniform(1000, 1600 - 500 * relax)
        az = np.deg2rad(az_deg + rng.uniform(-20, 20))
        centre = np.array([target_xy[0] + dist * np.cos(az), target_xy[1] + dist * np.sin(az), height])
        target = np.array(
            [target_xy[0] + rng.uniform(-0.2, 0.2), target_xy[1] + rng.uniform(-0.2, 0.2), rng.uniform(0.6, 1.1)]
        )
        R = _look_at(centre, target)
        f = np.array([fx, fx * rng.uniform(0.998, 1.002)])
        c = np.array([w / 2.0, h / 2.0])
        if _visible(points, R, centre, f, c, w, h, margin=2.0):
            meta = {
                "fx": round(float(fx), 3),
                "res": [w, h],
                "cam_height_above_floor_mm": round(height * 1000, 1),
                "cam_dist_mm": round(dist * 1000, 1),
                "azimuth_deg": round(float(np.rad2deg(az)) % 360, 2),
                "target_xz": [round(float(target[0]) * 1000, 1), round(float(-target[1]) * 1000, 1)],
            }
            return R, centre, f, c, (w, h), meta
    raise RuntimeError("could not place a synthetic cross-set camera")  # pragma: no cover
