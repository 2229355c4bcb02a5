"""Shared pytest setup: hypothesis profiles, seeding, and the optional torch oracle."""

import importlib.util

import pytest

import minidl as md
from minidl.testing import register_profiles

register_profiles()

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(autouse=True)
def _seed_and_backend():
    """Every test starts on the NumPy backend with a fixed seed and grad mode on."""
    md.set_backend("numpy")
    md.manual_seed(0)
    with md.enable_grad():
        yield


@pytest.fixture
def torch():
    """The torch module, or skip the test when it is not installed (oracle tests)."""
    return pytest.importorskip("torch")
