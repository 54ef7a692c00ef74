"""Stable-Baselines3 and sb3-contrib, imported only when a baseline is trained or loaded."""

from __future__ import annotations

from types import ModuleType

INSTALL_HINT = "pip install -e '.[sb3]' (stable-baselines3 and sb3-contrib; the dev extra has them too)"


def require_sb3() -> tuple[ModuleType, ModuleType]:
    """``(stable_baselines3, sb3_contrib)``; ImportError with the install command when one is missing."""
    try:
        import sb3_contrib
        import stable_baselines3
    except ImportError as err:
        raise ImportError(f"the RecurrentPPO baseline needs Stable-Baselines3 ({err.name} is missing): {INSTALL_HINT}") from None
    return stable_baselines3, sb3_contrib


def library_versions() -> dict[str, str]:
    """The versions that wrote a model: ``model.zip`` is a pickle, so they tell what can read it back."""
    import torch

    sb3, contrib = require_sb3()
    return {"stable_baselines3": sb3.__version__, "sb3_contrib": contrib.__version__, "torch": torch.__version__}
