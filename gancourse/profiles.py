"""Profiles: how much compute a notebook or a training run may spend.

============  =====================================================
``smoke``     tests and CI: proves the code runs, seconds per chapter
``cpu``       a learner without a GPU: real results in minutes
``full``      a GPU: results close to the papers
``auto``      ``full`` where a GPU is present, ``cpu`` otherwise
============  =====================================================

``GANCOURSE_PROFILE`` in the environment replaces ``auto`` (the test suite
uses it to run committed notebooks in ``smoke``).
"""
from __future__ import annotations

import os
from typing import Mapping, TypeVar

from .checks import check_choice
from .device import get_device

PROFILES = ("smoke", "cpu", "full")
CHOICES = PROFILES + ("auto",)

T = TypeVar("T")


def resolve_profile(profile: str = "auto") -> str:
    """Return ``smoke``, ``cpu`` or ``full`` for a profile name (``auto`` resolved)."""
    check_choice(profile, CHOICES, "profile")
    if profile != "auto":
        return profile
    env = os.environ.get("GANCOURSE_PROFILE", "").strip()
    if env and env != "auto":
        return check_choice(env, PROFILES, "profile (from GANCOURSE_PROFILE)")
    return "full" if get_device().type == "cuda" else "cpu"


def pick(profile: str, table: Mapping[str, T]) -> T:
    """``table[profile]`` for a resolved profile: ``pick(p, {"smoke": 50, "cpu": 3000, "full": 20000})``."""
    return table[resolve_profile(profile)]
