"""gancourse: the helper package of a Jupyter course on GANs in PyTorch.

One concept per module: ``profiles``, ``device``, ``data``, ``toys``, ``theory``,
``losses``, ``augment``, ``spectral``, ``models``, ``trainer``, ``progressive``, ``recipes``,
``metrics``, ``sampling``, ``plotting``, ``checkpoint``, ``progress``, ``runner``, ``grading``.
"""
from .checks import CheckpointError, GanCourseError, TrainingDiverged, check_images
from .device import get_device, seed_everything
from .profiles import pick, resolve_profile

__version__ = "0.1.0"
__all__ = [
    "GanCourseError", "CheckpointError", "TrainingDiverged", "check_images",
    "get_device", "seed_everything", "resolve_profile", "pick",
]
