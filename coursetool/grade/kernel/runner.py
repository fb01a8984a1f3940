"""The one way a notebook runs: a fresh kernel per notebook, configured by a ``RunSpec``.

The course check and the grader both run notebooks here. Cells run in order; cells whose id
is in ``spec.skip`` do not. Test cells of the lab run under the guard (``kernel_guard``) with
their own code reading the lab's pristine names. Output is capped per cell and per notebook,
whatever route it takes. A timed-out cell, an exhausted notebook budget or a dead kernel ends
the run: the cells after it are not run. The one exception is a kernel that dies while a probe
runs, or does not answer when a probe past its limit is interrupted (a hidden check the student
never saw): that costs the probe's cell only. A fresh kernel
runs the notebook again up to and including that cell, as the student's own "restart and run
all" would (outputs discarded, probes not evaluated again), and the run goes on after it.
"""
from __future__ import annotations

import ast
import asyncio
import builtins
import copy
import enum
import json
import logging
import re
import secrets
import shutil
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output

from coursetool.grade.kernel import guard as kernel_guard, workdirs
from coursetool.grade.lab import AutograderLab, Role, defined_names
from coursetool.grade.kernel.sandbox import SandboxedKernelManager, launch_prefix
from coursetool.grade.settings import Limits, RunSpec
from coursetool.grade.kernel.testcode import rewrite_test
from coursetool.grade.kernel.warm import ForkServer, fork_server
from coursetool.probes import ProbeRecord, records_of, without_probe_block

GUARD_INSTALL = """\
def _install_grader_guard():
    namespace = {{"__name__": "grader_guard"}}
    exec(compile({source!r}, "<grader guard>", "exec"), namespace)
    namespace["install"]({name!r}, {modules!r}, {bindings!r})
_install_grader_guard()
del _install_grader_guard
"""
TRUNCATED = "\n... output truncated by the grader ...\n"
INTERRUPT_GRACE_SECONDS = 10.0  # how long an interrupted kernel may take to answer before the run ends
MAX_PROBE_RESTARTS = 5  # kernels a notebook's probes may kill before the next death ends its run
log = logging.getLogger(__name__)
GUARD_INSTALL_SECONDS = 120.0  # importing the lab's modules before any student code: not the student's time
OUTPUT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "update_display_data", "error"})
PRINTABLE_NAME = re.compile(r"[\w.\[\]'() ]{1,120}", re.ASCII)  # what the guard's names are made of
BUILTIN_NAMES = frozenset(name for name in vars(builtins) if not name.startswith("_")) - {"super"}  # super() needs its name


class CellStatus(enum.StrEnum):
    """How one code cell ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    DIED = "died"  # the kernel died while it ran
    NOT_RUN = "not run"  # the run stopped before it
    SKIPPED = "skipped"  # in the RunSpec's ``skip``


@dataclass
class CellRun:
    """How one code cell ended, and why where it did not end well."""

    status: CellStatus
    detail: str = ""


@dataclass
class Execution:
    """Every code cell's ending, why the run stopped early (if it did), what the student had overridden."""

    cells: dict[int, CellRun] = field(default_factory=dict)
    stopped: str | None = None
    overridden: list[str] = field(default_factory=list)
    probes: dict[str, str] = field(default_factory=dict)  # probe id -> its value as JSON, from the kernel
    audit: list[tuple[int, str]] = field(default_factory=list)  # (cell index, audit event) raised by student cells
    unsteady: list[str] = field(default_factory=list)  # probes whose two evaluations differed (reference runs)
    tampered: list[str] = field(default_factory=list)  # what student code changed while a probe ran
    restarts: list[int] = field(default_factory=list)  # cells whose probe killed the kernel, which was restarted
    seed_blind: list[str] = field(default_factory=list)  # probes whose value a second seed left unchanged (reference)


@dataclass
class CellPlan:
    """What the runner does around one cell: run it as a test, or remember what a locked cell defines."""

    test: bool = False
    protects: tuple[str, ...] = ()


def plan_cells(nb: NotebookNode, lab: AutograderLab) -> dict[int, CellPlan]:
    """Plans for the lab's own test and locked code cells, found by their grade ids."""
    roles = {c.grade_id: c for c in lab.cells if c.grade_id and c.role in (Role.TEST, Role.FIXED)}
    plans: dict[int, CellPlan] = {}
    for index, cell in enumerate(nb.cells):
        source = roles.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if cell.cell_type == "code" and source is not None:
            plans[index] = CellPlan(test=source.role is Role.TEST, protects=defined_names(source.cell.source))
    return plans


@dataclass
class Resume:
    """Where a run goes on after a probe killed its kernel: the cells up to ``after`` ran, their endings and the
    probes' values are in ``execution``; ``deadline`` is the notebook's, on the monotonic clock."""

    after: int
    execution: Execution
    deadline: float


KILLED = json.dumps({"kind": "error", "type": "KernelDied", "by": "grader",
                     "message": "the kernel died while this check ran; it was started again"})
UNRESPONSIVE = json.dumps({"kind": "error", "type": "TimeoutError", "by": "grader",
                           "message": "the check ran past its limit and did not stop when interrupted; "
                                      "the kernel was started again"})
NOT_PROBED = json.dumps({"kind": "error", "type": "NotRun", "by": "grader",
                         "message": "not run: an earlier check of this cell killed the kernel"})


def payload_size(content: dict[str, Any]) -> int:
    return len(json.dumps({k: content.get(k) for k in ("data", "text", "evalue", "traceback") if k in content}))


class OutputBudget:
    """Characters of output each cell and the whole notebook may still receive."""

    def __init__(self, limits: Limits):
        self.per_cell = limits.output_chars
        self.left = limits.notebook_output_chars
        self.used: dict[int, int] = {}

    def take(self, cell_index: int, size: int) -> bool:
        used = self.used.get(cell_index, 0)
        self.used[cell_index] = used + size
        if used + size > self.per_cell or size > self.left:
            return False
        self.left -= size
        return True


class KernelClient(NotebookClient):
    """An nbclient client that starts kernels behind the spec's launcher and caps every output."""

    def __init__(self, nb: NotebookNode, prefix: list[str], runtime: Path, limits: Limits, **kwargs: Any):
        super().__init__(nb, **kwargs)
        self.prefix = prefix
        self.warm_command: list[str] = []  # a fork server's client, when the kernel is forked warm
        self.runtime = runtime
        self.budget = OutputBudget(limits)
        self.discarding = False  # replaying cells after a restart: their outputs are not kept
        self.truncated: set[int] = set()
        self.replies: dict[int, dict[str, Any]] = {}
        self.on_cell_executed = self.remember_reply

    def create_kernel_manager(self) -> SandboxedKernelManager:
        self.km = SandboxedKernelManager(
            transport="ipc", ip=str(self.runtime / "kernel"), connection_file=str(self.runtime / "kernel.json"),
            launch_prefix=self.prefix, warm_command=self.warm_command)
        return self.km

    def remember_reply(self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
        self.replies[cell_index] = execute_reply

    def process_message(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """Every output message counts against the budget, display updates included; none is kept in a replay."""
        if msg["msg_type"] in OUTPUT_MESSAGES and self.discarding:
            return None
        if msg["msg_type"] in OUTPUT_MESSAGES and not self.budget.take(cell_index, payload_size(msg["content"])):
            self.note_truncation(cell, cell_index, msg)
            return None
        return super().process_message(msg, cell, cell_index)

    def note_truncation(self, cell: NotebookNode, cell_index: int, msg: dict[str, Any]) -> None:
        if cell_index not in self.truncated:
            self.truncated.add(cell_index)
            cell.outputs.append(new_output("stream", name="stdout", text=TRUNCATED))
        if msg["msg_type"] == "error":
            content = msg["content"]
            cell.outputs.append(new_output("error", ename=str(content.get("ename", "Error"))[:200],
                                           evalue=str(content.get("evalue", ""))[:2000], traceback=[]))


class NotebookRun:
    """One kernel session: install the guard, then run the cells in order."""

    def __init__(self, client: KernelClient, lab: AutograderLab, spec: RunSpec, twice: bool = False,
                 resume: Resume | None = None):
        self.client = client
        self.resume = resume
        self.twice = twice  # evaluate every probe twice, to find probes that are not deterministic
        self.lab = lab
        self.spec = spec
        self.plans = plan_cells(client.nb, lab)
        self.guard = f"_grader_{secrets.token_hex(8)}"
        self.protected = set(BUILTIN_NAMES) | {binding[0] for binding in lab.import_bindings}
        self.deadline = resume.deadline if resume else time.monotonic() + spec.limits.notebook_timeout
        self.execution = Execution()
        self.killed_in: int | None = None  # the test cell whose probe killed this kernel

    async def run(self) -> Execution:
        started = time.monotonic()
        await self.install_guard()
        first = 0
        if self.resume is not None:
            await self.replay(self.resume)
            self.deadline += time.monotonic() - started  # starting again is the grader's time, not the student's
            first = self.resume.after + 1
        for index, cell in enumerate(self.client.nb.cells):
            if index < first or cell.cell_type != "code":
                continue
            if cell.get("id") in self.spec.skip:
                self.execution.cells[index] = CellRun(CellStatus.SKIPPED)
            elif self.execution.stopped:
                self.execution.cells[index] = CellRun(CellStatus.NOT_RUN, self.execution.stopped)
            else:
                await self.run_cell(index, cell, self.plans.get(index, CellPlan()))
                if self.killed_in is not None:
                    return self.execution
        if not self.execution.stopped:
            await self.collect_reports()
        return self.execution

    async def replay(self, resume: Resume) -> None:
        """Run the cells up to ``resume.after`` again, as "restart and run all" would, so that the cells after it
        find the state they would have found: outputs discarded, probes not evaluated again (their values are in
        ``resume.execution``, which this run goes on filling). Should a cell end otherwise than it did the first
        time, the notebook is not the same one again, and the run stops there."""
        first = resume.execution
        self.execution = Execution()
        self.client.discarding = True
        try:
            for index, cell in enumerate(self.client.nb.cells[:resume.after + 1]):
                before = first.cells.get(index)
                if cell.cell_type != "code" or before is None or before.status is CellStatus.SKIPPED:
                    continue
                await self.run_cell(index, copy.deepcopy(cell), self.plans.get(index, CellPlan()), probing=False)
                again = self.execution.cells[index]
                if again.status != before.status:
                    first.stopped = (f"not run: started again after a hidden check of cell {resume.after} killed the "
                                     f"kernel, the notebook ended cell {index} otherwise ({again.status}: {again.detail})")
                    break
        finally:
            self.client.discarding = False
        first.overridden += [name for name in self.execution.overridden if name not in first.overridden]
        self.execution = first

    async def collect_reports(self) -> None:
        """The audit events and the tampering the kernel's guard noted (added to a killed kernel's)."""
        log = json_list(await self.guard_call("audit_log()"))
        audit = [(entry[0], entry[1]) for entry in log or []
                 if isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int and isinstance(entry[1], str)]
        self.execution.audit = list(dict.fromkeys(self.execution.audit + audit))
        tampered = await self.tampering()
        if log is None or tampered is None:
            self.note_tampered(["the kernel's answers to the grader"])

    async def tampering(self) -> list[str] | None:
        """What the guard saw student code change while probes ran, noted in the execution; None: no usable answer."""
        tampered = json_list(await self.guard_call("tampering()"))
        self.note_tampered([kernel_name(name) for name in tampered or []])
        return tampered

    def note_tampered(self, names: list[str]) -> None:
        self.execution.tampered += [name for name in names if name not in self.execution.tampered]

    async def install_guard(self) -> None:
        code = GUARD_INSTALL.format(source=Path(kernel_guard.__file__).read_text(), name=self.guard,
                                    modules=self.lab.imported_modules, bindings=self.lab.import_bindings)
        reply = await self.request(code, timeout=max(GUARD_INSTALL_SECONDS, self.cell_timeout()))
        if reply is None or reply["content"]["status"] != "ok":
            raise RuntimeError(f"the grader could not prepare the kernel: {reply and reply['content']}")

    async def run_cell(self, index: int, cell: NotebookNode, plan: CellPlan, probing: bool = True) -> None:
        cells = self.execution.cells
        try:
            if plan.test:
                await self.run_test(index, cell, probing)
            elif plan.protects or index in self.plans:
                await self.client.async_execute_cell(cell, index)
            else:
                await self.guard_call(f"watch({index})")
                await self.client.async_execute_cell(cell, index)
                await self.guard_call("watch(None)")
        except CellTimeoutError:
            out_of_budget = self.remaining() <= 1
            cells[index] = CellRun(CellStatus.TIMEOUT, "the notebook ran out of time" if out_of_budget
                                   else f"the cell ran longer than {self.spec.limits.cell_timeout:g} s")
            self.execution.stopped = f"not run: {cells[index].detail} (cell {index})"
            return
        except DeadKernelError:
            cells[index] = CellRun(CellStatus.DIED, "the kernel died (exit, crash or memory limit)")
            self.execution.stopped = f"not run: the kernel died in cell {index}"
            return
        except Exception as error:  # noqa: BLE001 - only what the kernel's messages broke; the grader's own errors go on
            if not broke_the_protocol(error):
                raise
            cells[index] = CellRun(CellStatus.DIED, "the kernel sent messages the grader cannot read "
                                                    "(its messaging was changed)")
            self.execution.stopped = f"not run: the kernel stopped answering in its protocol in cell {index}"
            return
        if index not in cells:
            cells[index] = self.ending(index, cell)
        if self.killed_in is not None:
            return
        if plan.protects and cells[index].status == CellStatus.OK:  # what a failed cell left is not the lab's
            await self.protect(plan.protects)

    def ending(self, index: int, cell: NotebookNode) -> CellRun:
        reply = self.client.replies.get(index, {"content": {"status": "ok"}})["content"]
        if reply["status"] == "error" or any(output.output_type == "error" for output in cell.outputs):
            return CellRun(CellStatus.ERROR, f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}")
        return CellRun(CellStatus.OK)

    async def protect(self, names: tuple[str, ...]) -> None:
        """From now on, test code reads ``names`` as the lab's cell just defined them."""
        self.protected |= set(names)
        await self.guard_call(f"protect({list(names)!r})")

    async def run_test(self, index: int, cell: NotebookNode, probing: bool = True) -> None:
        """Run a test cell's code (never its probe block), then its probes (where ``probing``), between the guard's
        enter and exit.

        The test's own code and the probe expressions read the lab's names through the guard.
        Probe expressions go to the kernel as user expressions: no history, no cell, no output.
        A probe that kills the kernel, or runs on when interrupted, fails; the cell's later probes are not run,
        and ``killed_in`` says where (this kernel is done).
        """
        written = cell.source
        records = records_of(cell)
        code, names = rewrite_test(without_probe_block(written, records), self.guard, self.protected)
        overridden = await self.guard_call(f"enter({names!r})")
        if overridden is None:
            self.execution.cells[index] = CellRun(CellStatus.ERROR, "the grader's guard was tampered with")
            return
        repaired = json_list(overridden)
        named = ["(an answer the guard did not write)"] if repaired is None else [kernel_name(name) for name in repaired]
        self.execution.overridden += [name for name in named if name not in self.execution.overridden]
        cell.source = code
        try:
            await self.client.async_execute_cell(cell, index)
        finally:
            cell.source = written
        own = self.plans[index].protects
        if own and self.ending(index, cell).status == CellStatus.OK:
            await self.protect(own)  # the probes read what this cell defined, not an earlier cell's namesake
        for position, record in enumerate(records if probing else []):
            try:
                await self.run_probe(record)
            except (DeadKernelError, ProbeUnresponsive) as lost:
                self.execution.probes[record.id] = KILLED if isinstance(lost, DeadKernelError) else UNRESPONSIVE
                self.execution.probes.update(dict.fromkeys((later.id for later in records[position + 1:]), NOT_PROBED))
                self.execution.restarts.append(index)
                self.killed_in = index
                return
        await self.guard_call("exit()")
        if records and probing:
            await self.tampering()  # noted now: a kernel a later probe kills takes its guard's notes with it

    async def run_probe(self, record: ProbeRecord) -> None:
        """Evaluate one probe; one that runs past the cell's limit is interrupted and fails, and the run goes on."""
        expression, _ = rewrite_test(record.expression, self.guard, self.protected)
        call = f"probe(lambda: ({expression}), {self.spec.probe_seed!r})"
        try:
            value = await self.guard_call(call, interruptible=True)
        except ProbeInterrupted as interrupted:
            self.execution.probes[record.id] = json.dumps({"kind": "error", "type": "TimeoutError",
                                                              "message": str(interrupted), "by": "grader"})
            return
        self.execution.probes[record.id] = value if isinstance(value, str) else ""
        if self.twice and await self.guard_call(call) != value:
            self.execution.unsteady.append(record.id)
        other = f"probe(lambda: ({expression}), {other_seed(self.spec.probe_seed)!r})"
        if self.twice and self.spec.compare_seeds and await self.guard_call(other) == value:
            self.execution.seed_blind.append(record.id)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def cell_timeout(self, cell: NotebookNode | None = None) -> float:
        return max(1.0, min(self.spec.limits.cell_timeout, self.remaining()))

    async def guard_call(self, call: str, interruptible: bool = False) -> Any:
        """Evaluate a guard method as a user expression: no transformers, no history, no output."""
        reply = await self.request("", interruptible=interruptible, user_expressions={"result": f"{self.guard}.{call}"})
        result = reply["content"].get("user_expressions", {}).get("result", {}) if reply else {}
        if result.get("status") != "ok":
            return None
        try:
            return ast.literal_eval(result["data"]["text/plain"])
        except (KeyError, TypeError, ValueError, SyntaxError, MemoryError, RecursionError):
            return None  # a reply the guard did not write

    async def request(self, code: str, timeout: float | None = None, interruptible: bool = False,
                      **kwargs: Any) -> dict[str, Any] | None:
        """Send a silent request and wait for its reply; past the limit, CellTimeoutError, or for an
        ``interruptible`` request ProbeInterrupted where the kernel answers the interrupt, else ProbeUnresponsive."""
        msg_id = self.client.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                        stop_on_error=False, **kwargs)
        limit = timeout or self.cell_timeout()
        try:
            return await asyncio.wait_for(self.client.async_wait_for_reply(msg_id), limit)
        except asyncio.TimeoutError:
            if interruptible and await self.interrupted(msg_id):
                raise ProbeInterrupted(f"the check ran longer than {limit:g} s and was interrupted") from None
            if interruptible:
                raise ProbeUnresponsive(f"the check ran longer than {limit:g} s and the kernel did not answer "
                                        "the interrupt") from None
            raise CellTimeoutError("the grader's request to the kernel timed out") from None

    async def interrupted(self, msg_id: str) -> bool:
        """Interrupt the kernel (a message on its control channel: the kernel sends itself SIGINT, which reaches it
        warm or cold, where a signal to the launcher would end a cold kernel's sandbox); whether it then answered the
        request within the grace period."""
        kc = self.client.kc
        kc.control_channel.send(kc.session.msg("interrupt_request", {}))
        try:
            await asyncio.wait_for(self.client.async_wait_for_reply(msg_id), INTERRUPT_GRACE_SECONDS)
        except asyncio.TimeoutError:
            return False
        return True


def other_seed(seed: int) -> int:
    """A seed other than ``seed``, to see whether a probe's value depends on it."""
    return (seed + 1) % 2**31


PROTOCOL_MODULES = ("jupyter_client/session.py", "jupyter_client/jsonutil.py", "jupyter_client/adapter.py",
                    "coursetool/grade/kernel/messages.py")


def broke_the_protocol(error: BaseException) -> bool:
    """The error arose reading the kernel's messages: what the kernel sent, not the grader, is at fault."""
    frames = traceback.extract_tb(error.__traceback__)
    return any(frame.filename.endswith(PROTOCOL_MODULES) for frame in frames)


def kernel_name(name: Any) -> str:
    """A name the kernel reported, as the grader's CSV, report and terminal may show it: the names the guard writes
    are made of word characters, dots, brackets, quotes and spaces; anything else (markup, a formula, a line break,
    a terminal escape) is not repeated."""
    text = name if isinstance(name, str) else repr(name)
    return text if PRINTABLE_NAME.fullmatch(text) else f"(a name of {len(text)} characters the grader does not repeat)"


def json_list(text: Any) -> list | None:
    """A guard reply that should be a JSON list, or None where the kernel answered something else."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, list) else None


class ProbeInterrupted(Exception):
    """A probe ran past its limit; the kernel stopped it when interrupted and goes on."""


class ProbeUnresponsive(Exception):
    """A probe ran past its limit and its kernel did not answer the interrupt: it is started again."""


def prepare_scratch(root: Path, lab: AutograderLab) -> tuple[Path, Path]:
    """A writable working folder holding the lab's support files, and a folder for the kernel's sockets."""
    scratch, runtime = root / "work", root / "runtime"
    scratch.mkdir()
    runtime.mkdir()
    for path in lab.support_files():
        target = scratch / path.relative_to(lab.source_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return scratch, runtime


def scratch_environment(spec: RunSpec, scratch: Path) -> dict[str, str]:
    """The spec's environment with home, temporary and configuration folders inside the scratch folder."""
    return {**spec.env, "HOME": str(scratch), "TMPDIR": str(scratch),
            "MPLCONFIGDIR": str(scratch / ".matplotlib"), "IPYTHONDIR": str(scratch / ".ipython")}


async def execute_async(nb: NotebookNode, lab: AutograderLab, spec: RunSpec, twice: bool,
                        server: ForkServer | None) -> Execution:
    """Run the notebook; where a probe kills the kernel, again in a fresh one from that probe's cell on."""
    resume = None
    while True:
        run = await run_in_kernel(nb, lab, spec, twice, server, resume)
        if run.killed_in is None:
            return run.execution
        if len(run.execution.restarts) > MAX_PROBE_RESTARTS:
            return gave_up(run.execution, run.killed_in)
        log.info("a hidden check of cell %d killed the kernel: starting it again", run.killed_in)
        resume = Resume(run.killed_in, run.execution, run.deadline)


def gave_up(execution: Execution, index: int) -> Execution:
    """A run whose probes killed more kernels than are started again: it ends as a dead kernel at ``index``."""
    execution.cells[index] = CellRun(CellStatus.DIED, f"its hidden check killed the kernel (hidden checks killed "
                                                      f"{len(execution.restarts)}; at most {MAX_PROBE_RESTARTS} kernels "
                                                      f"are started again)")
    execution.stopped = f"not run: the kernel died in a hidden check of cell {index}"
    return execution


async def run_in_kernel(nb: NotebookNode, lab: AutograderLab, spec: RunSpec, twice: bool, server: ForkServer | None,
                        resume: Resume | None) -> NotebookRun:
    """One kernel's run of the notebook, from the start or from ``resume``."""
    with workdirs.marked_folder("coursetool-grade-", server.root if server else None) as tmp:
        scratch, runtime = prepare_scratch(tmp, lab)
        env = scratch_environment(spec, scratch)
        client = KernelClient(
            nb, launch_prefix(spec, scratch, runtime), runtime, spec.limits,
            allow_errors=True, kernel_name="python3", shutdown_kernel="immediate", record_timing=False,
            startup_timeout=120, resources={"metadata": {"path": str(scratch)}})
        if server is not None:
            client.warm_command = server.client_command(tmp, scratch, runtime / "kernel.json", env)
        run = NotebookRun(client, lab, spec, twice, resume)
        client.timeout_func = run.cell_timeout
        async with client.async_setup_kernel(env=env, cwd=str(scratch),
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            await run.run()
        return run


def warm_server(lab: AutograderLab, spec: RunSpec, wait: bool = True) -> ForkServer | None:
    """The fork server for this kind of kernel, or None (cold start) where none is wanted or none starts.
    ``wait`` False: start it, and let it import while this process does something else."""
    if not spec.warm:
        return None
    try:
        return fork_server(spec, lab.imported_modules, wait)
    except (OSError, RuntimeError) as error:
        log.warning("warm kernels unavailable, starting each kernel anew: %s", error)
        return None


def execute(nb: NotebookNode, lab: AutograderLab, spec: RunSpec, twice: bool = False) -> Execution:
    """Run every code cell of ``nb`` in place (outputs are written into it); ``twice``: every probe twice."""
    return asyncio.run(execute_async(nb, lab, spec, twice, warm_server(lab, spec)))
