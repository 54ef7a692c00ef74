"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One torch thread for the whole suite, module-scoped fixtures that train included.

    The networks and batches in tests are tiny: intra-op threads only add synchronisation, and
    they collapse when other processes share the cores.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """Training code sets its own thread count; whatever a test leaves, the next one starts from the same."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
