"""Running on a Dask cluster: connect to a scheduler or start a local one, run tasks, measure memory.

The Dask paths live beside what they parallelise (:func:`geo_csp.ingest.ingest_paths` and
:func:`geo_csp.cube.build_cube` with ``backend="dask"``); this module holds what they share and
imports no other geo-csp module, so every layer may use it. ``dask`` and ``distributed`` are
optional dependencies (the ``dask`` extra), imported only when a Dask path runs.
"""

from __future__ import annotations

import contextlib
import resource
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from geo_csp._errors import ParameterError

__all__ = ["active_client", "compute", "dask_client", "ordered", "peak_rss_mb"]


@contextlib.contextmanager
def dask_client(
    address: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    memory_limit: str | float | None = "auto",
    timeout_s: float = 10.0,
) -> Iterator[Any]:
    """A ``dask.distributed`` client, closed on exit; it is the default scheduler inside the block.

    Parameters
    ----------
    address
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``); ``None`` starts a
        :class:`distributed.LocalCluster` on this machine for the duration of the block.
    n_workers, threads_per_worker, processes, memory_limit
        Shape of the local cluster (ignored with ``address``). ``processes=False`` keeps the
        workers in this process (threads), which starts faster and suits tests.
    timeout_s
        How long to try to reach the scheduler at ``address``.

    Yields
    ------
    distributed.Client
    """
    # distributed ships no annotations: its calls are ignored for no-untyped-call only
    from distributed import Client, LocalCluster

    if address is not None:
        if not isinstance(address, str) or not address.strip():
            raise ParameterError(f"dask scheduler `address` must be text like 'tcp://host:8786'; got {address!r}")
        try:
            client = Client(address, timeout=f"{float(timeout_s)}s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise ParameterError(
                f"cannot reach a dask scheduler at {address!r} ({exc}); start one with `dask scheduler`"
                " and workers with `dask worker ADDRESS`, or leave the address out for a local cluster"
            ) from exc
        with client:
            yield client
        return
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ParameterError(f"`n_workers` must be a positive integer; got {n_workers!r}")
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            memory_limit=memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def peak_rss_mb(*, children: bool = True) -> float:
    """Peak resident set size of this process (plus its waited-for children), in MB.

    ``getrusage`` reports the peak of each process; for children it is the largest peak among the
    terminated children, so a run in a subprocess is measured from its parent after it ends.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if not children:
        return own
    return own + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def active_client(client: Any, scheduler: str | None) -> Any:
    """``client``, else the default ``distributed`` client when one is active and no scheduler is named."""
    if client is not None or scheduler is not None:
        return client
    try:
        from distributed import default_client

        return default_client()  # type: ignore[no-untyped-call]  # distributed ships no annotations
    except (ImportError, ValueError):
        return None


def compute(tasks: list[Any], *, client: Any, scheduler: str | None) -> list[Any]:
    """The results of Dask ``tasks``: on ``client`` (or the active one), else with ``scheduler``."""
    # dask.compute, from the module that defines it (dask's __init__ imports it but has no __all__)
    from dask.base import compute as dask_compute

    client = active_client(client, scheduler)
    if client is not None:
        results: list[Any] = client.gather(client.compute(tasks))
        return results
    # dask.base.compute has no annotations
    return list(dask_compute(*tasks, scheduler=scheduler))  # type: ignore[no-untyped-call]


def ordered(client: Any, fn: Callable[..., Any], items: Sequence[Any], *, ahead: int, **kwargs: Any) -> Iterator[Any]:
    """``fn(item, **kwargs)`` for each item, in order, at most ``ahead`` running (bounded memory)."""
    if client is None:
        for item in items:
            yield fn(item, **kwargs)
        return
    pending: deque[Any] = deque()
    queue = iter(items)
    for item in queue:
        pending.append(client.submit(fn, item, pure=False, **kwargs))
        if len(pending) >= ahead:
            break
    while pending:
        future = pending.popleft()
        result = future.result()
        future.release()
        nxt = next(queue, None)
        if nxt is not None:
            pending.append(client.submit(fn, nxt, pure=False, **kwargs))
        yield result
