"""What a grading run gives each kernel, made from its ``Settings``: the ``RunSpec`` (limits, environment, what
the sandbox shows), and the grading key, which changes exactly when something that can change a grade does."""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from coursetool.grade.kernel.gpus import device_nodes
from coursetool.grade.kernel.sandbox import readable_paths
from coursetool.grade.settings import RunSpec, Settings

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # figures become cell outputs, as in Jupyter


def run_spec(settings: Settings, skip: frozenset[str] = frozenset(), compare_seeds: bool = False) -> RunSpec:
    """What each kernel of the run is given; ``skip``: ids of cells not to run; ``compare_seeds``: a reference run
    evaluates each probe under a second seed too."""
    readable = readable_paths(settings.data_root) if settings.sandbox else ()
    devices = device_nodes() if settings.gpu is not None else ()
    return RunSpec(settings.limits, kernel_environment(settings), settings.sandbox, readable, settings.all_hidden(),
                   settings.threads_per_kernel, skip, devices, settings.warm and not devices, settings.probe_seed,
                   compare_seeds)


def grading_key(settings: Settings) -> str:
    """Hash of everything besides the submission that can change a grade or what a kernel sees.

    Not the probe seed: each run draws its own, and a student graded by an earlier run under another seed keeps
    that grade (judged against the reference evaluated with that run's seed)."""
    spec = run_spec(replace(settings, gpu=None))  # which GPU a kernel gets changes no grade
    described = {
        "source": hashlib.sha256(settings.source_notebook.read_bytes()).hexdigest(),
        "limits": asdict(settings.limits),
        "quick": settings.quick,
        "data_root": str(settings.data_root),
        "sandbox": settings.sandbox,
        "readable": sorted(map(str, spec.readable)),
        "hidden": sorted(map(str, settings.hidden_paths)),  # not the submissions: a class may be handed in anew
        "env": spec.env,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def kernel_environment(settings: Settings) -> dict[str, str]:
    """The kernel's environment, nothing of the grader's own; the runner adds the scratch folder's paths."""
    threads = str(settings.threads_per_kernel)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": INLINE_BACKEND,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NBGRADER_EXECUTION": "autograde",
        "VAELAB_OFFLINE": "1",
        "VAELAB_PROGRESS": "plain",  # no front end shows live bars: one final line per epoch
    }
    if settings.quick:
        env["VAELAB_QUICK"] = "1"
    if settings.data_root:
        env["VAELAB_DATA"] = str(settings.data_root)
    if settings.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = settings.gpu
    return env
