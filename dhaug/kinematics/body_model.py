"""The Denavit-Hartenberg body model of DH-AUG (method.md §2) as data: five chains of modified-DH
links with **named** degrees of freedom, bone lengths in the a/d slots, and an optional clavicle
variant.

A link is ``T = RotX(alpha) · TransX(a) · RotZ(theta_rest + offset) · TransZ(d)``. ``a`` and ``d``
are either 0 or a signed bone length (:data:`BONES` index). Every link's ``theta`` offset is either
a named DOF or fixed at 0 (the "no effect" slots of the original release are simply not DOFs).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The 15 bones, indexed like :attr:`dhaug.skeleton.H36M16.bones` (bone i ends at joint i + 1).
BONES = (
    "r_hip",
    "r_thigh",
    "r_shin",
    "l_hip",
    "l_thigh",
    "l_shin",
    "waist",
    "thorax",
    "neck",
    "l_shoulder",
    "l_upper_arm",
    "l_forearm",
    "r_shoulder",
    "r_upper_arm",
    "r_forearm",
)
B = {name: i for i, name in enumerate(BONES)}


@dataclass(frozen=True)
class Link:
    alpha: float  # degrees
    theta_rest: float  # degrees
    dof: str | None = None  # name of the DOF that offsets theta, None = fixed
    a_bone: int | None = None  # index into BONES or None (a = 0)
    a_sign: float = 1.0
    d_bone: int | None = None  # index into BONES or None (d = 0)
    joint: int | None = None  # H36M16 joint read from this link's frame


@dataclass(frozen=True)
class Chain:
    name: str
    links: tuple[Link, ...]
    parent: str | None = None  # chain whose frame this one starts from (None = pelvis/origin)
    parent_link: int = -1  # link index of the parent frame
    #: Optional extra rotations about fixed axes of the parent frame before link 0 (clavicles):
    #: tuples (dof name, axis (3,) in the parent frame).
    pre_rotations: tuple[tuple[str, tuple[float, float, float]], ...] = ()


@dataclass(frozen=True)
class BodyModel:
    name: str
    chains: tuple[Chain, ...]

    @property
    def dof_names(self) -> tuple[str, ...]:
        names = []
        for ch in self.chains:
            names += [n for n, _ in ch.pre_rotations]
            names += [lk.dof for lk in ch.links if lk.dof is not None]
        return tuple(names)

    @property
    def num_dofs(self) -> int:
        return len(self.dof_names)

    def dof_index(self, name: str) -> int:
        try:
            return self.dof_names.index(name)
        except ValueError:
            raise KeyError(f"body model {self.name!r} has no DOF {name!r}") from None


def _leg(side: str) -> Chain:
    r = side == "r"
    alphas = (0, -90, -90, 0, 0) if r else (0, 90, 90, 0, 0)
    rest = (0, -90, 180, 0, 0) if r else (180, -90, 0, 0, 0)
    hip, knee, ankle = (1, 2, 3) if r else (4, 5, 6)
    return Chain(
        f"{side}_leg",
        (
            Link(alphas[0], rest[0], f"{side}_hip_0", B[f"{side}_hip"], 1.0 if r else -1.0, joint=hip),
            Link(alphas[1], rest[1], f"{side}_hip_1"),
            Link(alphas[2], rest[2], f"{side}_hip_2"),
            Link(alphas[3], rest[3], f"{side}_knee", B[f"{side}_thigh"], joint=knee),
            Link(alphas[4], rest[4], None, B[f"{side}_shin"], joint=ankle),
        ),
    )


def _spine() -> Chain:
    names = [
        "pelvis_0",
        "pelvis_1",
        "pelvis_2",
        "spine_0",
        "spine_1",
        "spine_2",
        "thorax_0",
        "thorax_1",
        "thorax_2",
        "neck_0",
        "neck_1",
        "neck_2",
    ]
    links = []
    for i in range(13):
        alpha = 0 if i == 0 else (90 if i == 12 else -90)
        rest = 90 if i == 0 else (-90 if i <= 10 else 0)
        links.append(
            Link(
                alpha,
                rest,
                names[i] if i < 12 else None,
                a_bone=B["neck"] if i == 12 else None,
                d_bone={3: B["waist"], 6: B["thorax"]}.get(i),
                joint={0: 0, 3: 7, 6: 8, 12: 9}.get(i),
            )
        )
    return Chain("spine", tuple(links))


#: In the thorax frame (spine link 8) body-up is the local y axis and body-forward the local z axis
#: (at rest; the frame turns with the thorax). Clavicle DOFs rotate the whole arm about them, with
#: signs chosen so that positive "up" raises and positive "fwd" protracts the shoulder on both sides.
CLAVICLE_AXES = {"r": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)), "l": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0))}


def _arm(side: str, clavicle: bool = False) -> Chain:
    r = side == "r"
    alphas = (-90, -90, -90, 0, 0) if r else (-90, 90, 90, 0, 0)
    rest = (-180, -90, 180, 0, 0) if r else (0, -90, 0, 0, 0)
    sho, elb, wri = (13, 14, 15) if r else (10, 11, 12)
    pre: tuple[tuple[str, tuple[float, float, float]], ...] = ()
    if clavicle:
        up, fwd = CLAVICLE_AXES[side]
        pre = ((f"{side}_clavicle_up", up), (f"{side}_clavicle_fwd", fwd))
    return Chain(
        f"{side}_arm",
        (
            Link(alphas[0], rest[0], f"{side}_shoulder_0", B[f"{side}_shoulder"], -1.0 if r else 1.0, joint=sho),
            Link(alphas[1], rest[1], f"{side}_shoulder_1"),
            Link(alphas[2], rest[2], f"{side}_shoulder_2"),
            Link(alphas[3], rest[3], f"{side}_elbow", B[f"{side}_upper_arm"], joint=elb),
            Link(alphas[4], rest[4], None, B[f"{side}_forearm"], joint=wri),
        ),
        parent="spine",
        parent_link=8,
        pre_rotations=pre,
    )


def _model(name: str, clavicle: bool = False) -> BodyModel:
    return BodyModel(name, (_leg("r"), _leg("l"), _spine(), _arm("r", clavicle), _arm("l", clavicle)))


#: The paper's model: 28 joint DOFs (4 + 4 legs, 12 spine/neck, 4 + 4 arms), intended arm mapping.
PAPER = _model("paper")
#: The paper's model plus 2 clavicle DOFs per side (32 DOFs): shoulders move about the thorax.
CLAVICLE = _model("clavicle", clavicle=True)
BODY_MODELS = {"paper": PAPER, "clavicle": CLAVICLE}


def get_body_model(name: str) -> BodyModel:
    try:
        return BODY_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown body model {name!r}; choose one of {', '.join(BODY_MODELS)}") from None
