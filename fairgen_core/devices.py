"""Where tensors run and what software ran: the device choice, the CPU thread budget and the library versions a
run records."""

from __future__ import annotations

import platform

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from fairgen_core.config import thread_budget
from fairgen_core.errors import FairGenError


def resolve_device(choice: str) -> torch.device:
    """The torch device a configured choice means.

    Parameters
    ----------
    choice : str
        ``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.

    Returns
    -------
    torch.device
        The device to train and sample on.

    Raises
    ------
    FairGenError
        If ``cuda`` is requested but no CUDA GPU is available.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if choice == "cuda" and not torch.cuda.is_available():
        raise FairGenError("device 'cuda' was requested but no CUDA GPU is available: use 'auto' or 'cpu'.")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def apply_thread_budget(threads: int | None = None) -> int:
    """Limit this process to its share of the CPU cores: torch's intra-op threads and the loaded OpenMP/BLAS pools.

    Concurrent trainings and analyses then share the cores instead of spinning against each other. Processes
    started by :func:`fairgen_core.runs.process.launch` get the same budget in their environment
    (:func:`~fairgen_core.config.thread_env`) before they load NumPy or torch.

    Parameters
    ----------
    threads : int, optional
        Default :func:`~fairgen_core.config.thread_budget` (``$FAIRGEN_THREADS``, else a fair share).

    Returns
    -------
    int
        The threads now allowed.

    Raises
    ------
    FairGenError
        If ``threads`` is below 1 or ``$FAIRGEN_THREADS`` is not a whole number ≥ 1.
    """
    threads = thread_budget() if threads is None else threads
    if threads < 1:
        raise FairGenError(f"the thread budget must be at least 1, got {threads}.")
    torch.set_num_threads(threads)
    threadpool_limits(threads)
    return threads


def describe_auto_device() -> str:
    """What ``auto`` will use, in words: the GPU's name, else the CPU.

    Returns
    -------
    str
        ``"GPU: <name>"`` or ``"CPU (no GPU found)"``.
    """
    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)}"
    return "CPU (no GPU found)"


def library_versions() -> dict[str, str]:
    """The versions of Python and the numerical libraries, as run folders and experiments record them.

    Returns
    -------
    dict of str to str
        Keys ``python``, ``torch``, ``pandas`` and ``numpy``.

    Examples
    --------
    >>> sorted(library_versions())
    ['numpy', 'pandas', 'python', 'torch']
    """
    return {"python": platform.python_version(), "torch": torch.__version__, "pandas": pd.__version__,
            "numpy": np.__version__}
