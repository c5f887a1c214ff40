"""The DH body model: named-DOF chains, batched differentiable forward kinematics, analytic
inverse kinematics, and angle-limit tables (method.md §2)."""

from .body_model import BODY_MODELS, BONES, CLAVICLE, PAPER, BodyModel, get_body_model
from .data_limits import limit_table
from .fk import euler_xyz_matrix, forward_kinematics
from .ik import IKResult, euler_xyz_from_matrix, inverse_kinematics
from .limits import GLOBAL_ROTATIONS, LimitTable, paper_table

__all__ = [
    "BODY_MODELS",
    "BONES",
    "CLAVICLE",
    "PAPER",
    "BodyModel",
    "GLOBAL_ROTATIONS",
    "IKResult",
    "LimitTable",
    "euler_xyz_from_matrix",
    "euler_xyz_matrix",
    "forward_kinematics",
    "get_body_model",
    "inverse_kinematics",
    "limit_table",
    "paper_table",
]
