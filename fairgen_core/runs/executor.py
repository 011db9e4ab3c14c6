"""Where work runs (an experiment's cells; a sweep, comparison or training as one cell): one interface, a local
backend and a Ray backend.

A cell is a function of two arguments: the data every cell shares (put on the workers once per experiment,
:meth:`Executor.share`) and the cell's own small description. :meth:`Executor.submit` queues a cell and returns
its ticket, :meth:`Executor.wait_first` waits until at least one queued cell has finished, :meth:`Executor.cancel_all`
drops the queue and stops what runs. :func:`open_executor` picks the backend from an :class:`ExecutorConfig`:

- ``local`` (the default): one cell at a time in this process (``jobs=1``), or ``jobs`` spawned worker processes;
- ``ray``: Ray tasks on a cluster (``ray="auto"``, ``"local"`` or a head's address), one CPU each, one GPU as well
  when the cluster has GPUs and the cell asks for one; a task whose worker or node dies is retried
  ``max_retries`` times, then its cell is reported failed with the reason (:attr:`Outcome.failure`). Ray is
  imported only here, and only when this backend is opened (``requirements-cluster.txt``).

An exception raised by the cell itself (a bug, bad data) is not retried: :meth:`Executor.wait_first` raises it.
Torch-free.
"""

from __future__ import annotations

import logging
import socket
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from fairgen_core.config import thread_budget
from fairgen_core.errors import FairGenError
from fairgen_core.runs.process import hand_threads_on

#: A cell: ``function(shared, argument)``; module-level, so that worker processes and Ray workers import it.
CellFunction = Callable[[Any, Any], Any]
#: CPUs (and so threads) one Ray task asks for.
RAY_CPUS_PER_CELL = 1
#: ``ExecutorConfig.ray`` for a new cluster on this machine (its workers import this checkout: nothing is shipped).
RAY_LOCAL = "local"


@dataclass(frozen=True)
class ExecutorConfig:
    """Where cells run.

    Parameters
    ----------
    jobs : int
        Local backend: cells at once (1: in this process; more: spawned worker processes).
    ray : str, optional
        Run on Ray instead: ``"auto"`` (the cluster this machine belongs to), ``"local"`` (a new cluster on
        this machine, ended with the run) or a head's address (``HOST:PORT`` or ``ray://HOST:PORT``).
    max_parallel : int, optional
        Ray: cells submitted at once, at most (default: as many as the cluster takes).
    max_retries : int
        Ray: new attempts of a cell whose worker or node died before it is reported failed.

    Examples
    --------
    >>> ExecutorConfig().backend, ExecutorConfig(ray="auto").backend
    ('local', 'ray')
    """

    jobs: int = 1
    ray: str | None = None
    max_parallel: int | None = None
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.jobs <= 0:
            raise FairGenError(f"the number of parallel jobs must be positive, got {self.jobs}.")
        if self.max_parallel is not None and self.max_parallel <= 0:
            raise FairGenError(f"the number of cells at once must be positive, got {self.max_parallel}.")
        if self.max_retries < 0:
            raise FairGenError(f"the number of retries must be 0 or more, got {self.max_retries}.")
        if self.ray is not None and not self.ray.strip():
            raise FairGenError("the Ray address is empty: give auto, local or the head's HOST:PORT.")
        if self.ray is None and self.max_parallel is not None:
            raise FairGenError("a bound on the cells at once applies to a Ray cluster: the local backend runs "
                               "its number of parallel jobs.")
        if self.ray is not None and self.jobs != 1:
            raise FairGenError("parallel jobs are local processes: on a Ray cluster, bound the cells at once "
                               "instead.")

    @property
    def backend(self) -> str:
        """``"ray"`` or ``"local"``."""
        return "local" if self.ray is None else "ray"


@dataclass(frozen=True)
class Outcome:
    """A finished cell.

    Parameters
    ----------
    value : object
        What the cell's function returned (None when it failed).
    node : str
        Where it ran: the Ray node's id, or this machine's host name.
    failure : str, optional
        Why it failed after its retries (its worker or node died); None when it finished.
    """

    value: Any
    node: str
    failure: str | None = None


class Executor(Protocol):
    """The one interface of the backends (see the module docstring)."""

    #: CPU threads one cell may use.
    threads: int

    def share(self, value: Any) -> Any:
        """Hand ``value`` to the workers once; pass the result to :meth:`submit` for every cell."""

    def submit(self, function: CellFunction, shared: Any, argument: Any, *, gpu: bool = False) -> int:
        """Queue ``function(shared, argument)``; returns its ticket. ``gpu``: the cell can use a GPU."""

    def wait_first(self) -> list[tuple[int, Outcome]]:
        """Block until at least one submitted cell has finished; its tickets and outcomes (each reported once)."""

    def cancel_all(self) -> None:
        """Drop the queued cells and stop the running ones."""

    def close(self) -> None:
        """Release the workers (and the Ray connection this executor opened)."""


@contextmanager
def open_executor(config: ExecutorConfig) -> Iterator[Executor]:
    """The backend ``config`` names; its cells are cancelled when the block raises (Ctrl-C included).

    Parameters
    ----------
    config : ExecutorConfig
        Local processes or a Ray cluster.

    Yields
    ------
    Executor
        Closed when the block ends.

    Raises
    ------
    FairGenError
        If Ray is asked for but not installed, or its cluster cannot be reached.

    Examples
    --------
    >>> with open_executor(ExecutorConfig()) as executor:
    ...     ticket = executor.submit(divmod, 7, 2)
    ...     [(t == ticket, outcome.value) for t, outcome in executor.wait_first()]
    [(True, (3, 1))]
    """
    executor: Executor = LocalExecutor(config.jobs) if config.ray is None else RayExecutor(config)
    try:
        yield executor
    except BaseException:
        executor.cancel_all()
        raise
    finally:
        executor.close()


def run_one(config: ExecutorConfig, function: CellFunction, argument: Any, *, gpu: bool = False) -> Any:
    """Run one cell, ``function(None, argument)``, on ``config``'s backend and wait for it.

    Parameters
    ----------
    config : ExecutorConfig
        Local (this process) or a Ray cluster.
    function : callable
        The cell (module-level).
    argument : object
        Its description (picklable for Ray).
    gpu : bool
        It can use a GPU (Ray gives it one when the cluster has GPUs).

    Returns
    -------
    object
        What the cell returned.

    Raises
    ------
    FairGenError
        If its Ray worker or node was lost past its retries. The cell's own exceptions are raised as they are.

    Examples
    --------
    >>> run_one(ExecutorConfig(), lambda _, n: n * 2, 21)
    42
    """
    with open_executor(config) as executor:
        executor.submit(function, None, argument, gpu=gpu)
        [(_, outcome)] = executor.wait_first()
    if outcome.failure is not None:
        raise FairGenError(f"it failed on the Ray cluster: {outcome.failure}.")
    return outcome.value


class _Queued:
    """Tickets, the cells not yet handed to the backend and those it runs: what both backends share."""

    def __init__(self, capacity: int | None) -> None:
        self._capacity = capacity
        self._tickets = 0
        self._queue: deque[tuple[int, CellFunction, Any, Any, bool]] = deque()
        self._running: dict[Any, int] = {}

    def submit(self, function: CellFunction, shared: Any, argument: Any, *, gpu: bool = False) -> int:
        self._tickets += 1
        self._queue.append((self._tickets, function, shared, argument, gpu))
        self._launch_queued()
        return self._tickets

    def wait_first(self) -> list[tuple[int, Outcome]]:
        if not self._running:
            raise FairGenError("no cell was submitted: nothing to wait for.")
        finished = [(self._running.pop(handle), self._outcome(handle)) for handle in self._wait(list(self._running))]
        self._launch_queued()
        return finished

    def _launch_queued(self) -> None:
        """Hand queued cells to the backend while it has room."""
        while self._queue and (self._capacity is None or len(self._running) < self._capacity):
            ticket, function, shared, argument, gpu = self._queue.popleft()
            self._running[self._launch(function, shared, argument, gpu)] = ticket

    def cancel_all(self) -> None:
        self._queue.clear()
        self._cancel(list(self._running))
        self._running.clear()

    def _launch(self, function: CellFunction, shared: Any, argument: Any, gpu: bool) -> Any:
        raise NotImplementedError

    def _wait(self, handles: list[Any]) -> list[Any]:
        raise NotImplementedError

    def _outcome(self, handle: Any) -> Outcome:
        raise NotImplementedError

    def _cancel(self, handles: list[Any]) -> None:
        raise NotImplementedError


class LocalExecutor(_Queued):
    """Cells in this process, in the order submitted (``jobs=1``), or in ``jobs`` spawned worker processes.

    The processes are started with ``spawn`` (no forked torch state); a cancelled run drops the queued cells,
    and the running ones end with the pool (Ctrl-C reaches them as it reaches this process).
    """

    def __init__(self, jobs: int = 1) -> None:
        super().__init__(capacity=jobs)
        self.threads = thread_budget(jobs)
        self._node = socket.gethostname()
        self._pool = (ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) if jobs > 1
                      else None)
        self._calls: dict[Future[Any], Callable[[], Any]] = {}  # jobs=1: run when waited for, in order

    def share(self, value: Any) -> Any:
        return value

    def _launch(self, function: CellFunction, shared: Any, argument: Any, gpu: bool) -> Future[Any]:
        if self._pool is not None:
            return self._pool.submit(function, shared, argument)
        future: Future[Any] = Future()
        self._calls[future] = partial(function, shared, argument)
        return future

    def _wait(self, handles: list[Future[Any]]) -> list[Future[Any]]:
        if self._pool is not None:
            return list(wait(handles, return_when=FIRST_COMPLETED).done)
        future = handles[0]  # the only one: one cell at a time
        try:
            future.set_result(self._calls.pop(future)())
        except Exception as error:
            future.set_exception(error)
        return [future]

    def _outcome(self, handle: Future[Any]) -> Outcome:
        return Outcome(handle.result(), self._node)

    def _cancel(self, handles: list[Future[Any]]) -> None:
        self._calls.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise FairGenError("running on a Ray cluster needs Ray: pip install -r requirements-cluster.txt") from error
    return ray


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Refuse a head's ``HOST:PORT`` (or ``ray://HOST:PORT``) that takes no connection: Ray would retry forever.

    Examples
    --------
    >>> _check_reachable("auto"), _check_reachable("local")  # no address to try: Ray looks for the cluster itself
    (None, None)
    """
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise FairGenError(f"cannot reach the Ray cluster at '{address}' ({error}): start its head with "
                           "`ray start --head`, or check the address and port.") from error


def _on_node(function: CellFunction, shared: Any, argument: Any) -> tuple[Any, str]:
    """A Ray task's body: the cell on the task's CPUs (its thread budget), and the id of the node it ran on."""
    ray = _import_ray()
    hand_threads_on(RAY_CPUS_PER_CELL)
    return function(shared, argument), ray.get_runtime_context().get_node_id()


class RayExecutor(_Queued):
    """Cells as Ray tasks (see the module docstring); connects on creation, disconnects on :meth:`close`.

    A driver already connected to Ray (``ray.init`` called before) keeps its connection. A cluster joined by
    address gets this package with every task (Ray's ``py_modules``), so that its workers run this code; their
    Python environment must have FairGen's requirements.
    """

    def __init__(self, config: ExecutorConfig) -> None:
        super().__init__(capacity=config.max_parallel)
        ray = self._ray = _import_ray()
        self.threads = RAY_CPUS_PER_CELL
        self._retries = config.max_retries
        self._connected_here = not ray.is_initialized()
        if self._connected_here:
            _check_reachable(config.ray)
            shipped = {} if config.ray == RAY_LOCAL else {"runtime_env": {
                "py_modules": [str(Path(__file__).resolve().parents[1])], "excludes": ["__pycache__"]}}
            try:
                ray.init(address=config.ray, logging_level=logging.WARNING, **shipped)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise FairGenError(f"cannot reach the Ray cluster at '{config.ray}' ({error}): start one with "
                                   "`ray start --head`, or give its address.") from error
        self._gpu = ray.cluster_resources().get("GPU", 0) > 0
        self._task = ray.remote(_on_node)
        self._lost = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                      ray.exceptions.ObjectLostError, ray.exceptions.OutOfMemoryError)

    def share(self, value: Any) -> Any:
        return self._ray.put(value)

    def _launch(self, function: CellFunction, shared: Any, argument: Any, gpu: bool) -> Any:
        return self._task.options(num_cpus=RAY_CPUS_PER_CELL, num_gpus=1 if gpu and self._gpu else 0,
                                  max_retries=self._retries).remote(function, shared, argument)

    def _wait(self, handles: list[Any]) -> list[Any]:
        done, _ = self._ray.wait(handles, num_returns=1)
        return done

    def _outcome(self, handle: Any) -> Outcome:
        try:
            value, node = self._ray.get(handle)
        except self._ray.exceptions.RayTaskError as error:  # the cell's own exception: raised as it was
            raise (error.cause or error) from None
        except self._lost as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return Outcome(None, "", f"its Ray worker or node was lost {self._retries + 1} time(s) "
                                     f"({type(error).__name__}: {reason})")
        return Outcome(value, node)

    def _cancel(self, handles: list[Any]) -> None:
        for handle in handles:
            self._ray.cancel(handle, force=True)

    def close(self) -> None:
        if self._connected_here:
            self._ray.shutdown()
