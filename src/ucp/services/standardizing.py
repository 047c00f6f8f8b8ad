"""Standardizing many distinct raw values, in worker processes when it pays (`ucp dedupe`).

Workers import this module and the standardizers only (no numpy, no resolution engine), so
they start quickly; on POSIX they are forked from a forkserver that imported them once.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ucp.domain.features import raw_features
from ucp.domain.standardize import Context

#: the features of a chunk of raw values, as columns: feature -> value per raw (None: the
#: value gives no such feature)
FeatureColumns = dict[str, list[str | None]]


def _standardize_chunk(job: tuple[str, list[str], Context]) -> FeatureColumns:
    attribute, raws, ctx = job
    out: FeatureColumns = {}
    for k, raw in enumerate(raws):
        for name, value in raw_features(attribute, raw, ctx).items():
            col = out.get(name)
            if col is None:
                col = out[name] = [None] * len(raws)
            col[k] = value
    return out


#: below this many distinct values in all, standardizing in one process is quicker than
#: starting others
_PARALLEL_FROM = 4_000
_CHUNK_VALUES = 2_000


@contextmanager
def standardizing(
    jobs: Sequence[tuple[str, Sequence[str]]], ctx: Context, workers: int
) -> Iterator[Callable[[], dict[str, FeatureColumns]]]:
    """Start standardizing the raw values of each job (attribute, distinct non-empty raws) —
    in `workers` processes when it pays — and yield the function that waits for the features,
    as columns aligned with each job's raws. The caller's own work inside the block overlaps
    the workers'.

    Standardizing is pure and per value, so the result does not depend on `workers`. Columns
    (not a dict per value) keep a million records' features small and cheap to pass back.
    """
    chunks = [(attribute, list(raws[i:i + _CHUNK_VALUES]), ctx)
              for attribute, raws in jobs
              for i in range(0, len(raws), _CHUNK_VALUES)]
    total = sum(len(raws) for _, raws in jobs)
    sizes = {attribute: len(raws) for attribute, raws in jobs}

    def collect(results: Iterable[FeatureColumns]) -> dict[str, FeatureColumns]:
        out: dict[str, FeatureColumns] = {attribute: {} for attribute, _ in jobs}
        filled = dict.fromkeys(sizes, 0)
        for (attribute, raws, _), cols in zip(chunks, results, strict=True):
            start, dest = filled[attribute], out[attribute]
            for name, values in cols.items():
                col = dest.get(name)
                if col is None:
                    col = dest[name] = [None] * sizes[attribute]
                col[start:start + len(values)] = values
            filled[attribute] = start + len(raws)
        return out

    if workers > 1 and total >= _PARALLEL_FROM and len(chunks) > 1 and _can_start_workers():
        with _start_pool(_worker_context(), min(workers, len(chunks))) as pool:
            results = pool.imap(_standardize_chunk, chunks)  # under way from here
            yield lambda: collect(results)
    else:
        yield lambda: collect(map(_standardize_chunk, chunks))


def standardize_columns(
    jobs: Sequence[tuple[str, Sequence[str]]], ctx: Context, workers: int
) -> dict[str, FeatureColumns]:
    """The features of the raw values of each job, as columns (see `standardizing`)."""
    with standardizing(jobs, ctx, workers) as features:
        return features()


def standardize_distinct(
    jobs: Sequence[tuple[str, Sequence[str]]], ctx: Context, workers: int
) -> dict[str, dict[str, dict[str, str]]]:
    """Features of each distinct raw value per attribute (see `standardize_columns`)."""
    distinct = {attribute: sorted({v for v in values if v}) for attribute, values in jobs}
    cols = standardize_columns(list(distinct.items()), ctx, workers)
    return {attribute: {raw: {name: value for name, col in cols[attribute].items()
                              if (value := col[k]) is not None}
                        for k, raw in enumerate(raws)}
            for attribute, raws in distinct.items()}


def _can_start_workers() -> bool:
    """Only when the main module is a file (not stdin/-c): a worker restarted by the pool
    after `_start_pool` re-imports it."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or Path(path).is_file()


def _worker_context() -> Any:
    """The multiprocessing context of the standardizing workers.

    On POSIX a forkserver that imports this module (the standardizers) once, each worker
    forked from it instead of importing it anew; not '__main__' (see `_start_pool`).
    """
    if os.name == "nt":
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def start_workers_early(workers: int | None = None) -> None:
    """Start the workers' forkserver now, so its imports overlap the caller's own work (reading
    the file) instead of delaying the first standardized chunk (half a second on 2 CPUs)."""
    workers = default_workers() if workers is None else workers
    if os.name == "nt" or workers <= 1 or not _can_start_workers():
        return
    from multiprocessing import forkserver

    _worker_context()
    forkserver.ensure_running()


def _start_pool(context: Any, processes: int) -> Any:
    """`context.Pool(processes)` whose workers do not re-import the main module.

    multiprocessing has each new worker run the parent's main module again (found by its
    `__file__` or `__spec__`), so functions defined there unpickle. The pool runs only
    `_standardize_chunk`, a function of this module, and under the `ucp` command the main
    module imports the whole CLI: 1.5 s of every worker's start. So the main module's
    `__file__` and `__spec__` are hidden while the workers start (they read them then only).
    """
    main = sys.modules.get("__main__")
    if main is None:
        return context.Pool(processes)
    saved: dict[str, Any] = {name: vars(main)[name] for name in ("__file__", "__spec__")
                             if name in vars(main)}
    main.__spec__ = None  # multiprocessing reads the attribute, so None rather than absent
    vars(main).pop("__file__", None)
    try:
        return context.Pool(processes)
    finally:
        vars(main).pop("__spec__", None)
        vars(main).update(saved)


def default_workers() -> int:
    """One worker per CPU this process may use, at most 4."""
    try:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(4, os.cpu_count() or 1))
