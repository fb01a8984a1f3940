"""One GPU per kernel: which GPUs a machine hands out, one holder per GPU across processes, the sandbox's devices."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from coursetool.grade.course import local
from coursetool.grade.kernel import runner
from coursetool.grade.kernel.gpus import GpuSlots, device_nodes, gpu_for, visible_gpus
from coursetool.grade.lab import AutograderLab
from coursetool.grade.kernel.sandbox import bwrap_prefix, bwrap_works
from coursetool.grade.notebook.runspec import grading_key, run_spec
from coursetool.grade.settings import Limits, RunSpec, Settings


def fake_dev(folder: Path, *names: str) -> Path:
    folder.mkdir()
    for name in names:
        (folder / name).touch()
    return folder


def test_the_gpus_are_those_cuda_visible_devices_lists(tmp_path: Path) -> None:
    dev = fake_dev(tmp_path / "dev", "nvidia0", "nvidia1", "nvidiactl")
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}, dev) == ["2", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "GPU-8a1f, GPU-77c0"}, dev) == ["GPU-8a1f", "GPU-77c0"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}, dev) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}, dev) == []


def test_without_cuda_visible_devices_each_gpu_node_is_a_gpu(tmp_path: Path) -> None:
    dev = fake_dev(tmp_path / "dev", "nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-modeset", "null")
    assert visible_gpus({}, dev) == ["0", "1"]
    assert visible_gpus({}, fake_dev(tmp_path / "cpu-only", "null", "zero")) == []
    assert [p.name for p in device_nodes(dev)] == ["nvidia-modeset", "nvidia-uvm", "nvidia0", "nvidia1", "nvidiactl"]


def test_each_gpu_has_one_holder_at_a_time(tmp_path: Path) -> None:
    slots = GpuSlots(["0", "1"], tmp_path / "locks")
    first, second = slots.try_take(), slots.try_take()
    assert first is not None and second is not None and {first[0], second[0]} == {"0", "1"}
    assert slots.try_take() is None
    second[1].close()
    again = slots.try_take()
    assert again is not None and again[0] == second[0]
    first[1].close()
    again[1].close()


def test_a_gpu_held_by_another_process_is_not_handed_out_and_is_freed_when_it_dies(tmp_path: Path) -> None:
    slots = GpuSlots(["0", "1"], tmp_path / "locks")
    slots.folder.mkdir()
    hold = ("import fcntl, sys\nlock = open(sys.argv[1], 'a')\nfcntl.flock(lock, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\nsys.stdin.read()\n")
    other = subprocess.Popen([sys.executable, "-c", hold, str(slots.lock_file("0"))], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "held\n"
        taken = slots.try_take()
        assert taken is not None and taken[0] == "1"
        taken[1].close()
    finally:
        other.kill()
        other.wait(timeout=30)
    freed = slots.try_take()
    assert freed is not None and freed[0] == "0"
    freed[1].close()


def test_take_waits_for_a_gpu_to_be_freed(tmp_path: Path) -> None:
    slots = GpuSlots(["0"], tmp_path / "locks", poll_seconds=0.01)
    holder = slots.try_take()
    assert holder is not None
    got: list[str] = []

    def take() -> None:
        with slots.take() as gpu:
            got.append(gpu)

    waiter = threading.Thread(target=take)
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive() and not got  # still waiting: the GPU is held
    holder[1].close()
    waiter.join(timeout=30)
    assert got == ["0"]


def settings(tmp_path: Path, quick: bool) -> Settings:
    return Settings(lab="gradelab", autograder=tmp_path / "autograder", quick=quick, sandbox=False)


def test_full_mode_gives_a_kernel_one_gpu_and_quick_mode_none(tmp_path: Path) -> None:
    slots = GpuSlots(["3", "5"], tmp_path / "locks")
    with gpu_for(settings(tmp_path, quick=False), slots) as assigned:
        assert assigned.gpu in ("3", "5")
        assert run_spec(assigned).env["CUDA_VISIBLE_DEVICES"] == assigned.gpu
        with gpu_for(settings(tmp_path, quick=False), slots) as other:
            assert {assigned.gpu, other.gpu} == {"3", "5"}
    with gpu_for(settings(tmp_path, quick=True), slots) as quick:
        assert quick.gpu is None and "CUDA_VISIBLE_DEVICES" not in run_spec(quick).env


def test_full_mode_on_a_machine_without_gpus_runs_on_the_cpu(tmp_path: Path) -> None:
    with gpu_for(settings(tmp_path, quick=False), GpuSlots([], tmp_path / "locks")) as assigned:
        spec = run_spec(assigned)
        assert assigned.gpu is None and spec.devices == () and "CUDA_VISIBLE_DEVICES" not in spec.env


def test_the_sandbox_shows_device_nodes_only_to_a_kernel_with_a_gpu(tmp_path: Path) -> None:
    nodes = (Path("/dev/nvidiactl"), Path("/dev/nvidia-uvm"), Path("/dev/nvidia0"))
    with_gpu = bwrap_prefix(RunSpec(Limits(), {}, True, devices=nodes), (tmp_path,))
    for node in nodes:
        assert ["--dev-bind-try", str(node), str(node)] == with_gpu[with_gpu.index(str(node)) - 1:with_gpu.index(str(node)) + 2]
    without = bwrap_prefix(RunSpec(Limits(), {}, True), (tmp_path,))
    assert not any("nvidia" in arg for arg in without)


@pytest.mark.kernels
@pytest.mark.skipif(not Path("/dev/nvidia0").exists(), reason="no NVIDIA GPU on this machine")
def test_a_sandboxed_kernel_computes_on_its_gpu(tmp_path: Path) -> None:
    source = tmp_path / "autograder" / "source" / "gpu"
    source.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, torch\nprint(os.environ['CUDA_VISIBLE_DEVICES'], torch.cuda.device_count())\n"
        "print(float((torch.ones(4, device='cuda') * 2).sum()))")])
    nbformat.write(nb, source / "gpu.ipynb")
    lab = AutograderLab("gpu", source)
    base = Settings(lab="gpu", autograder=tmp_path / "autograder", quick=False, sandbox=bwrap_works(),
                    limits=Limits(memory_mb=65536))
    with gpu_for(base) as assigned:
        run = nbformat.from_dict(nb)
        execution = runner.execute(run, lab, run_spec(assigned))
    assert execution.stopped is None and execution.cells[0].status == "ok", run.cells[0].outputs
    printed = "".join(output.get("text", "") for output in run.cells[0].outputs).split()
    assert printed == [assigned.gpu, "1", "8.0"]


def test_which_gpu_a_kernel_gets_leaves_the_grading_key_alone(tmp_path: Path) -> None:
    base = settings(tmp_path, quick=False)
    base.source_dir.mkdir(parents=True)
    base.source_notebook.write_text("{}")
    with gpu_for(base, GpuSlots(["1"], tmp_path / "locks")) as assigned:
        assert grading_key(assigned) == grading_key(base)


def test_the_reference_run_gets_a_gpu_of_its_own_in_full_mode(tmp_path: Path, built_course: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    given = []
    monkeypatch.setattr(local, "reference_values", lambda settings, lab: given.append(settings.gpu) or {})
    lab = AutograderLab("gradelab", built_course / "autograder" / "source" / "gradelab")
    for quick in (False, True):
        local.LocalPool(1).reference(settings(tmp_path, quick=quick), lab)
    assert given == ["7", None]  # as a submission's kernel: one GPU in full mode, none in quick mode
