"""Procedural motions: smooth joint-angle curves per action (walking, waving, squatting, ...) driven
through the body's forward kinematics and placed on the floor."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .body import _ANKLE_HEIGHT, _CLEARANCE, _LA, _RA, _forward_kinematics


def _gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian filter of a (T,) signal along time (sigma in frames; odd reflection keeps edge slopes)."""
    r = int(np.ceil(3 * sigma))
    if sigma <= 0 or r < 1 or len(x) < 2:
        return x
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(x, r, mode="reflect", reflect_type="odd") if len(x) > r else np.pad(x, r, mode="edge")
    return np.convolve(padded, k, mode="valid")


def _place(rel: np.ndarray, root_xy: np.ndarray | None, anchor_xy, lift, fps: float) -> np.ndarray:
    """Put pelvis-relative poses into the world: feet on the floor, root on its path.

    ``root_xy`` (T, 2) moves the pelvis along a path; when None the feet midpoint is held at
    ``anchor_xy`` (feet planted). The height makes the lowest ankle touch the floor (ankle joint at
    :data:`_ANKLE_HEIGHT`) and keeps every joint above :data:`_CLEARANCE`, plus ``lift`` (jumps).
    """
    T = rel.shape[0]
    out = rel.copy()
    if root_xy is None:
        feet = 0.5 * (rel[:, _LA, :2] + rel[:, _RA, :2])
        out[:, :, :2] += (np.asarray(anchor_xy, dtype=np.float64) - feet)[:, None, :]
    else:
        out[:, :, :2] += root_xy[:, None, :]
    need = np.full(16, _CLEARANCE)
    need[[_LA, _RA]] = _ANKLE_HEIGHT
    # smooth maximum (tau = 1.5 cm) so the height has no kink when the supporting foot changes
    tau = 0.015
    z = tau * np.logaddexp.reduce((need[None, :] - rel[:, :, 2]) / tau, axis=1)
    z = _gaussian_smooth(z, 0.05 * fps)  # and no cusp at heel strike (moves feet by a few mm)
    if lift is not None:
        z = z + np.broadcast_to(lift, (T,))
    out[:, :, 2] += z[:, None]
    return out


# motion building blocks


class _Ctx:
    """Per-sequence context: time axis, RNG and style (amplitude / speed scales)."""

    def __init__(self, rng: np.random.Generator, T: int, fps: float, amp: float, speed: float):
        self.rng, self.T, self.fps, self.amp, self.speed = rng, T, fps, amp, speed
        self.t = np.arange(T) / fps
        self.duration = T / fps

    def u(self, lo, hi):
        return float(self.rng.uniform(lo, hi))

    def smooth(self, amp_deg, fmin=0.05, fmax=0.4, n=3):
        """A smooth random curve (sum of n sinusoids), RMS ~ amp_deg / sqrt(2)."""
        f = self.rng.uniform(fmin, fmax, n) * self.speed
        ph = self.rng.uniform(0, 2 * np.pi, n)
        a = self.rng.normal(size=n)
        a = a / np.sqrt(np.sum(a**2))
        return amp_deg * np.sum(a[:, None] * np.sin(2 * np.pi * f[:, None] * self.t[None, :] + ph[:, None]), 0)

    def gate(self, on=(2.5, 4.0), off=(0.6, 1.2), ramp=(0.8, 1.2), start_off=True):
        """Smooth 0/1 schedule: rest (off) <-> active (on) with cosine ramps, repeated to the end."""
        times, vals, t, state = [0.0], [0.0 if start_off else 1.0], 0.0, start_off
        while t < self.duration + 5:
            t += self.u(*(off if state else on)) / self.speed
            times.append(t)
            vals.append(vals[-1])
            t += self.u(*ramp) / self.speed
            times.append(t)
            vals.append(1.0 - vals[-1])
            state = not state
        return _interp_keys(self.t, np.array(times), np.array(vals))

    def idle(self, scale=1.0):
        """Small postural sway for every joint (degrees), a dict of angle arrays."""
        s = scale * self.amp
        return {
            "pitch": self.smooth(1.5 * s),
            "roll": self.smooth(1.5 * s),
            "yaw": self.smooth(4 * s),
            "spine_flex": 4 + self.smooth(3 * s),
            "spine_lat": self.smooth(2 * s),
            "spine_twist": self.smooth(4 * s),
            "neck_flex": 3 + self.smooth(6 * s),
            "neck_twist": self.smooth(12 * s),
            **{f"{sd}_sh_flex": self.smooth(5 * s) for sd in "lr"},
            **{f"{sd}_sh_abd": 8 + self.smooth(3 * s) for sd in "lr"},
            **{f"{sd}_sh_twist": self.smooth(6 * s) for sd in "lr"},
            **{f"{sd}_elbow": 22 + self.smooth(8 * s) for sd in "lr"},
            **{f"{sd}_hip_abd": 1.5 + self.smooth(1.5 * s) for sd in "lr"},
            **{f"{sd}_hip_twist": 4 + self.smooth(2 * s) for sd in "lr"},
            **{f"{sd}_hip_flex": 2 + self.smooth(2 * s) for sd in "lr"},
            **{f"{sd}_knee": 4 + np.abs(self.smooth(4 * s)) for sd in "lr"},
        }


def _interp_keys(t, times, vals):
    """Cosine-eased piecewise interpolation of key values (K,) or (K, D) at times t."""
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[idx + 1] - times[idx], 1e-9)
    u = np.clip((t - times[idx]) / span, 0.0, 1.0)
    w = 0.5 - 0.5 * np.cos(np.pi * u)
    if vals.ndim > 1:
        w = w[:, None]
    return vals[idx] * (1 - w) + vals[idx + 1] * w


# actions: each returns (angles, root_xy or None, lift or None)


def _walking(c: _Ctx):
    P = c.u(1.0, 1.2) / c.speed  # gait cycle, s
    A = c.u(18, 24) * c.amp  # hip swing amplitude, deg
    phi = 2 * np.pi * c.t / P + c.u(0, 2 * np.pi)
    ang = c.idle(0.4)
    leg = 0.9
    for side, ph in (("l", phi), ("r", phi + np.pi)):
        ang[f"{side}_hip_flex"] = 4 + A * np.sin(ph)
        ang[f"{side}_knee"] = (
            4 + 52 * c.amp * ((1 + np.cos(ph - 0.15)) / 2) ** 2 + 15 * ((1 + np.cos(ph - np.pi / 2 - 0.9)) / 2) ** 4
        )
        B = c.u(14, 24) * c.amp
        ang[f"{side}_sh_flex"] = 4 - B * np.sin(ph)
        ang[f"{side}_elbow"] = 14 + 12 * (1 - np.sin(ph)) / 2 + c.smooth(3)
        ang[f"{side}_sh_abd"] = c.u(7, 11) + c.smooth(2)
    ang["spine_flex"] = c.u(2, 7) + c.smooth(2)
    # root along an ellipse at walking speed, facing the direction of travel
    speed_ms = 4 * leg * np.sin(np.deg2rad(A)) / P * 0.9
    a, b = c.u(0.85, 1.25), c.u(0.6, 1.0)
    rot, centre = c.u(0, 2 * np.pi), c.rng.uniform(-0.15, 0.15, 2)
    direction = 1.0 if c.rng.random() < 0.5 else -1.0
    psi = np.linspace(0, 2 * np.pi, 721)
    ell = np.stack([a * np.cos(psi), b * np.sin(psi)], -1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(ell, axis=0), axis=1))])
    s = (c.u(0, 1) * arc[-1] + speed_ms * c.t) % arc[-1]
    p = np.interp(s, arc, psi) * direction
    ca, sa = np.cos(rot), np.sin(rot)
    xy = np.stack([a * np.cos(p), b * np.sin(p)], -1)
    vel = np.stack([-a * np.sin(p), b * np.cos(p)], -1) * direction
    rm = np.array([[ca, -sa], [sa, ca]])
    xy, vel = xy @ rm.T + centre, vel @ rm.T
    heading = np.rad2deg(np.unwrap(np.arctan2(vel[:, 1], vel[:, 0])))
    ang["yaw"] = heading - 5 * c.amp * np.sin(phi) + c.smooth(1.5)
    ang["spine_twist"] = 8 * c.amp * np.sin(phi) + c.smooth(2)
    ang["roll"] = 2.5 * np.sin(2 * phi) + c.smooth(1)
    return ang, xy, None


def _waving(c: _Ctx):
    ang = c.idle(1.0)
    g = c.gate(on=(2.8, 4.5), off=(0.5, 1.2), ramp=(0.6, 0.9))
    both = c.rng.random() < 0.25
    first = "l" if c.rng.random() < 0.5 else "r"
    sides = ("l", "r") if both else (first,)
    fw = c.u(1.4, 2.4) * c.speed
    for sd in sides:
        ph = 2 * np.pi * fw * c.t + c.u(0, 2 * np.pi)
        ang[f"{sd}_sh_abd"] = ang[f"{sd}_sh_abd"] + g * c.u(90, 125) * min(c.amp, 1.2)
        ang[f"{sd}_sh_flex"] = ang[f"{sd}_sh_flex"] + g * c.u(5, 30)
        ang[f"{sd}_sh_twist"] = ang[f"{sd}_sh_twist"] + g * c.u(60, 85)
        ang[f"{sd}_elbow"] = ang[f"{sd}_elbow"] + g * (c.u(40, 60) + 25 * c.amp * np.sin(ph))
    if not both:
        sign = 1.0 if first == "l" else -1.0  # lean away from the raised arm, look at the camera side
        ang["spine_lat"] = ang["spine_lat"] + g * sign * c.u(0, 6)
        ang["neck_twist"] = ang["neck_twist"] + g * sign * c.u(0, 15)
    return ang, None, None


def _squatting(c: _Ctx):
    ang = c.idle(0.5)
    P = c.u(2.4, 3.4) / c.speed
    s = 0.5 - 0.5 * np.cos(2 * np.pi * c.t / P)
    s = s * s * (3 - 2 * s)  # linger at the top and bottom
    D = min(c.u(0.7, 1.0) * c.amp, 1.1)
    lean = 35 * D * s
    thigh = 85 * D * s  # thigh angle in the world (0 = vertical, 90 = horizontal)
    shin = -28 * D * s  # shank leans forward (knee ahead of the ankle)
    ang["pitch"] = ang["pitch"] + lean
    width, out = c.u(6, 14), c.u(3, 10)
    arms = c.u(0.5, 1.0) * 85
    for sd in "lr":
        ang[f"{sd}_hip_flex"] = 2 + thigh + lean + c.smooth(1.5)
        ang[f"{sd}_knee"] = 3 + thigh - shin + c.smooth(1.5)
        ang[f"{sd}_hip_abd"] = width + 4 * s
        ang[f"{sd}_hip_twist"] = out
        ang[f"{sd}_sh_flex"] = ang[f"{sd}_sh_flex"] + arms * s
        ang[f"{sd}_sh_abd"] = ang[f"{sd}_sh_abd"] - 4 * s
    ang["neck_flex"] = ang["neck_flex"] - 0.5 * lean
    return ang, None, None


def _reaching(c: _Ctx):
    ang = c.idle(0.7)
    t = 0.0
    names = (
        "l_sh_flex",
        "l_sh_abd",
        "l_sh_twist",
        "l_elbow",
        "r_sh_flex",
        "r_sh_abd",
        "r_sh_twist",
        "r_elbow",
        "spine_flex",
        "spine_twist",
        "spine_lat",
        "neck_flex",
        "hip_flex",
        "knee",
        "pitch",
    )
    rest = np.zeros(len(names))
    times, vals = [0.0], [rest]
    reach = True
    while t < c.duration + 3:
        t += c.u(0.3, 0.8) / c.speed  # hold
        times.append(t)
        vals.append(vals[-1])
        t += c.u(0.8, 1.3) / c.speed  # move
        times.append(t)
        if not reach:
            vals.append(rest)
        else:
            v = rest.copy()
            sides = ["l", "r"] if c.rng.random() < 0.2 else [("l", "r")[int(c.rng.random() < 0.5)]]
            kind = c.rng.choice(["high", "mid", "low"], p=[0.35, 0.4, 0.25])
            for sd in sides:
                o = 0 if sd == "l" else 4
                sign = 1.0 if sd == "l" else -1.0
                if kind == "high":
                    v[o : o + 4] = [c.u(110, 160), c.u(0, 40), c.u(-10, 20), c.u(0, 25)]
                    v[11] = -c.u(10, 25)
                elif kind == "mid":
                    v[o : o + 4] = [c.u(60, 100), c.u(0, 60), c.u(-20, 20), c.u(0, 30)]
                    v[11] = c.u(-5, 10)
                else:
                    v[o : o + 4] = [c.u(50, 80), c.u(0, 25), c.u(-15, 15), c.u(0, 20)]
                    v[8], v[11] = c.u(25, 45), c.u(10, 25)
                    v[12], v[13], v[14] = c.u(20, 40), c.u(25, 50), c.u(10, 25)
                v[o : o + 4] *= [c.amp, 1, 1, 1]
                if len(sides) == 1:
                    v[9] = -sign * c.u(5, 25)  # bring the reaching shoulder forward
                    v[10] = sign * c.u(0, 8)
            vals.append(v)
        reach = not reach
    k = _interp_keys(c.t, np.array(times), np.array(vals))
    for i, n in enumerate(names[:12]):
        ang[n] = ang.get(n, 0.0) + k[:, i]
    ang["pitch"] = ang["pitch"] + k[:, 14]
    for sd in "lr":
        ang[f"{sd}_hip_flex"] = ang[f"{sd}_hip_flex"] + k[:, 12] + k[:, 14]
        ang[f"{sd}_knee"] = ang[f"{sd}_knee"] + k[:, 13]
    return ang, None, None


def _bending(c: _Ctx):
    ang = c.idle(0.5)
    P = c.u(3.0, 4.2) / c.speed
    s = 0.5 - 0.5 * np.cos(2 * np.pi * c.t / P + c.u(-0.3, 0.3))
    s = s * s * (3 - 2 * s)
    beta = min(c.u(70, 100) * c.amp, 110) * s  # total trunk inclination, deg
    alpha = 0.45 * beta  # of which at the hips
    ang["pitch"] = ang["pitch"] + alpha
    ang["spine_flex"] = ang["spine_flex"] + beta - alpha
    knee = c.u(5, 25) * s
    for sd in "lr":
        ang[f"{sd}_hip_flex"] = 2 + alpha + 8 * s + knee * 0.5
        ang[f"{sd}_knee"] = 3 + knee
        ang[f"{sd}_sh_flex"] = ang[f"{sd}_sh_flex"] + 0.9 * beta  # arms hang down
        ang[f"{sd}_elbow"] = ang[f"{sd}_elbow"] + 10 * s
    ang["neck_flex"] = ang["neck_flex"] + c.u(-5, 20) * s
    return ang, None, None


def _jumping_jacks(c: _Ctx):
    ang = c.idle(0.3)
    P = c.u(0.9, 1.2) / c.speed
    phi = 2 * np.pi * c.t / P
    open_ = 0.5 - 0.5 * np.cos(phi)
    air = np.abs(np.sin(phi))
    lift = c.u(0.05, 0.11) * min(c.amp, 1.3) * np.maximum(0.0, air - 0.35) / 0.65
    arm = min(c.u(135, 160) * c.amp, 172)
    for sd in "lr":
        ang[f"{sd}_sh_abd"] = 10 + arm * open_
        ang[f"{sd}_sh_flex"] = ang[f"{sd}_sh_flex"] + 8 * open_
        ang[f"{sd}_elbow"] = 10 + 15 * open_
        ang[f"{sd}_hip_abd"] = 3 + c.u(11, 17) * c.amp * open_
        knee = 6 + 22 * (1 - air) ** 2
        ang[f"{sd}_knee"] = knee
        ang[f"{sd}_hip_flex"] = 0.45 * knee
    ang["pitch"] = ang["pitch"] + 2 * (1 - air)
    return ang, None, lift


def _turning(c: _Ctx):
    ang = c.idle(0.6)
    times, vals, t, yaw = [0.0], [0.0], 0.0, 0.0
    while t < c.duration + 3:
        t += c.u(0.4, 1.0) / c.speed
        times.append(t)
        vals.append(yaw)
        yaw += c.rng.choice([-1.0, 1.0]) * c.u(90, 240)
        t += c.u(1.6, 2.6) / c.speed
        times.append(t)
        vals.append(yaw)
    yaw_t = _interp_keys(c.t, np.array(times), np.array(vals))
    rate = np.gradient(yaw_t, c.t)  # deg/s
    g = np.clip(np.abs(rate) / 60.0, 0, 1)
    phi = 2 * np.pi * c.u(0.9, 1.3) * c.speed * c.t  # each foot steps about once a second
    for sd, ph in (("l", phi), ("r", phi + np.pi)):
        step = g * np.maximum(0.0, np.sin(ph)) ** 2
        ang[f"{sd}_hip_flex"] = ang[f"{sd}_hip_flex"] + 22 * c.amp * step
        ang[f"{sd}_knee"] = ang[f"{sd}_knee"] + 40 * c.amp * step
        ang[f"{sd}_sh_abd"] = ang[f"{sd}_sh_abd"] + 6 * g
    ang["yaw"] = ang["yaw"] + yaw_t
    lead = np.clip(rate * 0.12, -25, 25)  # trunk and head lead the turn
    ang["spine_twist"] = ang["spine_twist"] + lead
    ang["neck_twist"] = ang["neck_twist"] + 1.2 * lead
    return ang, None, None


def _sitting(c: _Ctx):
    ang = c.idle(0.6)
    g = c.gate(on=(1.5, 2.6), off=(0.5, 1.2), ramp=(1.0, 1.4))
    lean = 4 * g * (1 - g) * c.u(25, 40)  # forward lean while getting up / sitting down
    thigh = c.u(82, 92) * g
    ang["pitch"] = ang["pitch"] + 4 * g + lean
    spread = c.u(4, 12)
    for sd in "lr":
        ang[f"{sd}_hip_flex"] = 2 + thigh + 4 * g + lean
        ang[f"{sd}_knee"] = 3 + thigh + 12 * 4 * g * (1 - g) + c.u(-4, 8) * g
        ang[f"{sd}_hip_abd"] = ang[f"{sd}_hip_abd"] + spread * g
        ang[f"{sd}_sh_flex"] = ang[f"{sd}_sh_flex"] + c.u(15, 35) * g
        ang[f"{sd}_elbow"] = ang[f"{sd}_elbow"] + c.u(30, 60) * g
    ang["spine_flex"] = ang["spine_flex"] + 6 * g
    return ang, None, None


_ACTIONS: dict[str, Callable[[_Ctx], tuple]] = {
    "Walking": _walking,
    "Waving": _waving,
    "Squatting": _squatting,
    "Reaching": _reaching,
    "Bending": _bending,
    "JumpingJacks": _jumping_jacks,
    "Turning": _turning,
    "Sitting": _sitting,
}
#: Names of the synthetic actions, in generation order.
SYNTHETIC_ACTIONS: tuple[str, ...] = tuple(_ACTIONS)


def _make_sequence(action: str, body, rng, T: int, fps: float, amp: float, speed: float) -> np.ndarray:
    """World positions (T, 16, 3) float64 of one action sequence."""
    c = _Ctx(rng, T, fps, amp, speed)
    ang, root_xy, lift = _ACTIONS[action](c)
    if root_xy is None:
        ang["yaw"] = ang.get("yaw", 0.0) + c.u(0, 360)
        anchor = rng.uniform(-0.4, 0.4, 2)
    else:
        anchor = None
    rel = _forward_kinematics(body, ang, T)
    return _place(rel, root_xy, anchor, lift, fps)


# cameras
