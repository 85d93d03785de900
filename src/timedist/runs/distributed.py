"""Several processes for a closed-form fit, without Lightning: ``--devices`` x ``--num-nodes``.

The process that runs ``timedist fit`` on a machine starts the other ``devices - 1`` of that
machine (spawned: each imports timedist afresh and calls the given function), and all of them
join one ``torch.distributed`` group (gloo on CPUs, NCCL on GPUs) at ``MASTER_ADDR:MASTER_PORT``
— Lightning's variables, so a run over machines is started the same way as for networks: the
same command on every machine with its ``NODE_RANK``. On one machine a free port is taken
when ``MASTER_PORT`` is not set. ``RocketModel.fit`` inside the group transforms its share of
the samples and sums the statistics with ``all_reduce``. Under a launcher that starts every
process itself (``torchrun``: ``RANK`` and ``LOCAL_RANK`` set), nothing is spawned.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import torch.distributed as dist

__all__ = ["ProcessGroupError", "process_group"]


class ProcessGroupError(RuntimeError):
    """A process of the group did not join in time, or ended with an error."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _join(rank: int, world: int, address: str, port: int, timeout: int, backend: str) -> None:
    dist.init_process_group(backend, init_method=f"tcp://{address}:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=timeout))


def _child(work: Callable[..., None], local: int, rank: int, world: int, address: str,
           port: int, timeout: int, backend: str, args: tuple[Any, ...]) -> None:
    _join(rank, world, address, port, timeout, backend)
    try:
        work(local, *args)
    finally:
        dist.destroy_process_group()


@contextlib.contextmanager
def process_group(devices: int, num_nodes: int, work: Callable[..., None],
                  args: tuple[Any, ...] = (), *, timeout: int = 600, backend: str = "gloo"
                  ) -> Iterator[None]:
    """Within the block, this process is in a group of ``devices`` x ``num_nodes``
    processes: as local rank 0 of its machine, whose other processes it starts to run
    ``work(local_rank, *args)`` (a module-level function: it is pickled to them) — or, under
    a launcher, as the rank it was given. On leaving, the group is closed and the processes
    are waited for (at most ``timeout`` seconds).

    Raises ProcessGroupError when the group does not form within ``timeout``, when one of
    the started processes ended with an error (checked once the block ended without one of
    its own), or when ``MASTER_PORT`` is missing for several machines."""
    node = int(os.environ.get("NODE_RANK", "0") or 0)
    world = devices * num_nodes
    rank = node * devices
    launched = "LOCAL_RANK" in os.environ and "RANK" in os.environ  # torchrun started them all
    if launched:
        rank = int(os.environ["RANK"])
        if int(os.environ.get("WORLD_SIZE", world)) != world:
            raise ProcessGroupError(f"the launcher started {os.environ['WORLD_SIZE']} "
                                    f"processes; expected --devices {devices} x --num-nodes "
                                    f"{num_nodes} = {world}")
    address = os.environ.get("MASTER_ADDR", "127.0.0.1")
    port = int(os.environ.get("MASTER_PORT", "0") or 0)
    if not port:
        if num_nodes > 1:
            raise ProcessGroupError(f"--num-nodes {num_nodes}: expected MASTER_ADDR and "
                                    "MASTER_PORT (the first machine's address and a free port) "
                                    "in the environment of every machine")
        port = _free_port()
    spawn = multiprocessing.get_context("spawn")
    children = [spawn.Process(target=_child, args=(work, local, node * devices + local, world,
                                                   address, port, timeout, backend, args))
                for local in range(1, 1 if launched else devices)]
    for child in children:
        child.start()
    failed = True
    try:
        try:
            _join(rank, world, address, port, timeout, backend)
        except dist.DistError as error:
            raise ProcessGroupError(
                f"not every process of --devices {devices} x --num-nodes {num_nodes} joined "
                f"within --ddp-timeout {timeout} s ({' '.join(str(error).split())[:160]})"
            ) from None
        yield
        failed = False
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        for child in children:
            child.join(timeout if not failed else 5)
            if child.is_alive():
                child.terminate()
                child.join()
    ended = [c.exitcode for c in children if c.exitcode != 0]
    if ended:
        raise ProcessGroupError(f"{len(ended)} of the {devices - 1} other processes on this "
                                f"machine ended with an error (exit codes {ended}): see its "
                                "lines above")
