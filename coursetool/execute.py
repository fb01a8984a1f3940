"""Run a notebook cell by cell in a real kernel and say how each code cell ended."""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode


@dataclass(frozen=True)
class CellOutcome:
    """How one code cell ended: ``error`` is None when it ran cleanly."""

    index: int
    error: str | None
    ran: bool = True


def error_of(cell: NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return None


def quick_environment(**extra: str) -> dict[str, str]:
    """The current environment with quick mode on and a headless plotting backend."""
    return {**os.environ, "VAELAB_QUICK": "1", "MPLBACKEND": "Agg", **extra}


def execute_notebook(notebook: NotebookNode, *, cwd: Path, env: dict[str, str] | None = None,
                     skip: Iterable[int] = (), cell_timeout: int = 600) -> list[CellOutcome]:
    """Execute every code cell not in ``skip``, going on after errors.

    A timed-out cell or a dead kernel ends the run: the cells after it are reported as not run.
    """
    skipped = set(skip)
    client = NotebookClient(notebook, timeout=cell_timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.km = client.create_kernel_manager()
    client.km.transport, client.km.ip = "ipc", str(cwd / ".kernel")  # local sockets, no TCP ports
    outcomes: list[CellOutcome] = []
    stopped: str | None = None
    with client.setup_kernel(env=env or quick_environment()):
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or index in skipped:
                continue
            if stopped is not None:
                outcomes.append(CellOutcome(index, stopped, ran=False))
                continue
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                stopped = f"not run: cell {index} timed out after {cell_timeout} s"
                outcomes.append(CellOutcome(index, f"timed out after {cell_timeout} s"))
                continue
            except DeadKernelError:
                stopped = f"not run: the kernel died in cell {index}"
                outcomes.append(CellOutcome(index, "the kernel died"))
                continue
            outcomes.append(CellOutcome(index, error_of(cell)))
    return outcomes
