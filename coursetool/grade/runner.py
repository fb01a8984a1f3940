"""Execute a restored submission in its own kernel, test cells under the guard.

A timed-out cell, an exhausted notebook budget or a dead kernel ends the run: the cells after
it are not run, and test cells not run score nothing.
"""
from __future__ import annotations

import ast
import asyncio
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output

from coursetool.grade import kernel_guard
from coursetool.grade.sandbox import SandboxedKernelManager, kernel_environment, launch_prefix
from coursetool.grade.settings import Settings

GUARD_INSTALL = """\
def _install_grader_guard():
    namespace = {{"__name__": "grader_guard"}}
    exec(compile({source!r}, "<grader guard>", "exec"), namespace)
    namespace["install"]({name!r}, {modules!r}, {bindings!r})
_install_grader_guard()
del _install_grader_guard
"""
TRUNCATED = "\n... output truncated by the grader ...\n"


@dataclass(frozen=True)
class CellPlan:
    """How to run one cell: as a test under the guard, and which names it defines for the lab."""

    is_test: bool = False
    protects: tuple[str, ...] = ()


@dataclass
class CellRun:
    """How one code cell ended: ``ok``, ``error``, ``timeout``, ``died`` or ``not run``."""

    status: str
    detail: str = ""


@dataclass
class Execution:
    """Every code cell's ending, why the run stopped early (if it did), what the guard repaired."""

    cells: dict[int, CellRun] = field(default_factory=dict)
    stopped: str | None = None
    repaired: list[str] = field(default_factory=list)


class GradingClient(NotebookClient):
    """An nbclient client that starts sandboxed kernels and caps each cell's output."""

    def __init__(self, nb: NotebookNode, prefix: list[str], runtime: Path, output_chars: int, **kwargs: Any):
        super().__init__(nb, **kwargs)
        self.prefix = prefix
        self.runtime = runtime
        self.output_chars = output_chars
        self.output_sizes: dict[int, int] = {}
        self.replies: dict[int, dict[str, Any]] = {}
        self.on_cell_executed = self.remember_reply

    def create_kernel_manager(self) -> SandboxedKernelManager:
        self.km = SandboxedKernelManager(
            transport="ipc", ip=str(self.runtime / "kernel"), connection_file=str(self.runtime / "kernel.json"),
            launch_prefix=self.prefix)
        return self.km

    def remember_reply(self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
        self.replies[cell_index] = execute_reply

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        size = len(json.dumps(msg["content"].get("data") or msg["content"].get("text") or ""))
        used = self.output_sizes.get(cell_index, 0)
        self.output_sizes[cell_index] = used + size
        if used + size <= self.output_chars:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.output_chars:
            note = new_output("stream", name="stdout", text=TRUNCATED)
            outs.append(note)
            return note
        return None


class GuardedRun:
    """One kernel session: install the guard, then run the cells in order."""

    def __init__(self, client: GradingClient, plans: dict[int, CellPlan], settings: Settings,
                 modules: list[str], bindings: list[tuple[str, str, str | None]]):
        self.client = client
        self.plans = plans
        self.limits = settings.limits
        self.modules = modules
        self.bindings = bindings
        self.guard = f"_grader_{secrets.token_hex(8)}"
        self.deadline = time.monotonic() + settings.limits.notebook_timeout
        self.execution = Execution()

    async def run(self) -> Execution:
        await self.install_guard()
        for index, cell in enumerate(self.client.nb.cells):
            if cell.cell_type != "code":
                continue
            if self.execution.stopped:
                self.execution.cells[index] = CellRun("not run", self.execution.stopped)
            else:
                await self.run_cell(index, cell, self.plans.get(index, CellPlan()))
        return self.execution

    async def install_guard(self) -> None:
        code = GUARD_INSTALL.format(source=Path(kernel_guard.__file__).read_text(), name=self.guard,
                                    modules=self.modules, bindings=self.bindings)
        reply = await self.request(code)
        if reply is None or reply["content"]["status"] != "ok":
            raise RuntimeError(f"the grader could not prepare the kernel: {reply and reply['content']}")

    async def run_cell(self, index: int, cell: NotebookNode, plan: CellPlan) -> None:
        cells = self.execution.cells
        try:
            if plan.is_test and not await self.guard_enter():
                cells[index] = CellRun("error", "the grader's guard was tampered with")
                return
            await self.client.async_execute_cell(cell, index)
            reply = self.client.replies.get(index, {"content": {"status": "ok"}})["content"]
            if plan.is_test:
                await self.guard_call("exit()")
            if plan.protects:
                await self.guard_call(f"protect({list(plan.protects)!r})")
        except CellTimeoutError:
            out_of_budget = self.remaining() <= 1
            cells[index] = CellRun("timeout", "the notebook ran out of time" if out_of_budget
                                   else f"the cell ran longer than {self.limits.cell_timeout:g} s")
            self.execution.stopped = f"not run: {cells[index].detail} (cell {index})"
            return
        except DeadKernelError:
            cells[index] = CellRun("died", "the kernel died (exit, crash or memory limit)")
            self.execution.stopped = f"not run: the kernel died in cell {index}"
            return
        has_error = any(output.output_type == "error" for output in cell.outputs)
        if reply["status"] == "error" or has_error:
            cells[index] = CellRun("error", f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}")
        else:
            cells[index] = CellRun("ok")

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def cell_timeout(self, cell: NotebookNode | None = None) -> float:
        return max(1.0, min(self.limits.cell_timeout, self.remaining()))

    async def guard_enter(self) -> bool:
        repaired = await self.guard_call("enter()")
        if repaired is None:
            return False
        self.execution.repaired += [name for name in json.loads(repaired) if name not in self.execution.repaired]
        return True

    async def guard_call(self, call: str) -> str | None:
        """Evaluate a guard method as a user expression: no transformers, no history, no output."""
        reply = await self.request("", user_expressions={"result": f"{self.guard}.{call}"})
        result = reply["content"].get("user_expressions", {}).get("result", {}) if reply else {}
        if result.get("status") != "ok":
            return None
        return ast.literal_eval(result["data"]["text/plain"])

    async def request(self, code: str, **kwargs: Any) -> dict[str, Any] | None:
        msg_id = self.client.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                        stop_on_error=False, **kwargs)
        try:
            return await asyncio.wait_for(self.client.async_wait_for_reply(msg_id), self.cell_timeout())
        except asyncio.TimeoutError:
            raise CellTimeoutError("the grader's request to the kernel timed out") from None


def prepare_scratch(root: Path, support_files: list[Path], source_dir: Path) -> tuple[Path, Path]:
    """A writable working folder holding the lab's support files, and a folder for the kernel's sockets."""
    scratch, runtime = root / "work", root / "runtime"
    scratch.mkdir()
    runtime.mkdir()
    for path in support_files:
        target = scratch / path.relative_to(source_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return scratch, runtime


async def execute_async(nb: NotebookNode, plans: dict[int, CellPlan], settings: Settings, submissions: Path,
                        modules: list[str], bindings: list[tuple[str, str, str | None]],
                        support_files: list[Path]) -> Execution:
    with tempfile.TemporaryDirectory(prefix="coursetool-grade-") as tmp:
        scratch, runtime = prepare_scratch(Path(tmp), support_files, settings.source_dir)
        client = GradingClient(
            nb, launch_prefix(settings, submissions, scratch, runtime), runtime, settings.limits.output_chars,
            allow_errors=True, kernel_name="python3", shutdown_kernel="immediate", record_timing=False,
            startup_timeout=120, resources={"metadata": {"path": str(scratch)}})
        run = GuardedRun(client, plans, settings, modules, bindings)
        client.timeout_func = run.cell_timeout
        async with client.async_setup_kernel(env=kernel_environment(settings, scratch), cwd=str(scratch),
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            return await run.run()


def execute(nb: NotebookNode, plans: dict[int, CellPlan], settings: Settings, submissions: Path,
            modules: list[str], bindings: list[tuple[str, str, str | None]], support_files: list[Path]) -> Execution:
    """Run every code cell of ``nb`` in place (outputs are written into it)."""
    return asyncio.run(execute_async(nb, plans, settings, submissions, modules, bindings, support_files))
