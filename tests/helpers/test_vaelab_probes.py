"""Probe values: encoded as plain data, read back without executing anything, compared by kind, dtype and shape."""
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from coursetool import probes as course_probes
from vaelab.probes import MAX_ELEMENTS, REFERENCE_FILE, ProbeDataError, decode, encode, evaluate, judge

REPO = Path(__file__).resolve().parents[2]


def as_json(value) -> str:
    return json.dumps(encode(value))


def test_values_round_trip_and_match_themselves():
    for value in (3, 2.5, True, None, "text", torch.arange(6.0).reshape(2, 3), np.eye(2), (1, [2.0, {"a": 3}]),
                  torch.Size([2, 3]), torch.tensor([1, 2], dtype=torch.int64), torch.ones(2, dtype=torch.bfloat16)):
        assert judge(as_json(value), as_json(value), 1e-6, 1e-4) is None, value


def test_kind_dtype_and_shape_must_match_before_values():
    reference = as_json(torch.tensor([1.0, 2.0]))
    assert "float64" in judge(reference, as_json(torch.tensor([1.0, 2.0], dtype=torch.float64)), 1e-6, 1e-4)
    assert "shape (3,)" in judge(reference, as_json(torch.tensor([1.0, 2.0, 3.0])), 1e-6, 1e-4)
    assert "array" in judge(reference, as_json(np.array([1.0, 2.0], dtype=np.float32)), 1e-6, 1e-4)
    assert judge(reference, as_json(torch.tensor([1.0, 2.1])), 1e-6, 1e-4) == "wrong values"
    assert judge(reference, as_json(torch.tensor([1.0, 2.00001])), 1e-6, 1e-4) is None
    assert judge(as_json(2.0), as_json(2), 1e-6, 1e-4).startswith("expected a float")


def test_a_probe_runs_in_the_references_state_and_gives_the_notebook_its_own_back():
    """Seeded generators, gradients on, float32 by default while the probe runs; the notebook's random streams,
    gradient mode and default dtype (float64, set honestly) as they were afterwards."""
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    torch.set_grad_enabled(False)
    try:
        assert json.loads(evaluate(lambda: torch.is_grad_enabled()))["value"] is True
        assert json.loads(evaluate(lambda: torch.zeros(2)))["dtype"] == "float32"
        assert evaluate(lambda: torch.rand(2)) == evaluate(lambda: torch.rand(2))
        assert not torch.is_grad_enabled() and torch.get_default_dtype() is torch.float64
        assert torch.equal(torch.rand(3), expected)
    finally:
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)


def test_rigged_objects_encode_as_unsupported_and_earn_nothing():
    class Anything:
        shape = (2,)

        def __eq__(self, other):
            return True

    class Yes(torch.Tensor):
        pass

    class Rigged(list):
        pass

    reference = as_json(torch.tensor([1.0, 2.0]))
    for rigged in (Anything(), torch.tensor([1.0, 2.0]).as_subclass(Yes), Rigged([1.0, 2.0])):
        assert "object" in judge(reference, as_json(rigged), 1e-6, 1e-4)


def test_forged_or_malformed_data_is_a_wrong_answer_never_executed():
    reference = as_json(torch.tensor([1.0]))
    forged = {"kind": "tensor", "dtype": "float32", "shape": [2], "data": "AAAA"}  # 3 bytes for 2 floats
    assert "unreadable" in judge(reference, json.dumps(forged), 1e-6, 1e-4)
    assert "unreadable" in judge(reference, "not json", 1e-6, 1e-4)
    assert "unreadable" in judge(reference, json.dumps({"kind": "pickle", "data": "gASV"}), 1e-6, 1e-4)
    with pytest.raises(ProbeDataError):
        decode({"kind": "tensor", "dtype": "object", "shape": [1], "data": ""})


def test_evaluate_seeds_every_generator_and_reports_errors():
    assert evaluate(lambda: torch.randn(3)) == evaluate(lambda: torch.randn(3))
    assert json.loads(evaluate(lambda: 1 / 0))["kind"] == "error"
    assert json.loads(evaluate(lambda: torch.zeros(MAX_ELEMENTS + 1)))["kind"] == "unsupported"


def test_the_grader_and_the_kernel_agree_on_the_reference_file():
    assert course_probes.REFERENCE_FILE == REFERENCE_FILE



def test_a_probe_raises_no_warning():
    """nbgrader takes a test cell that wrote a warning to stderr for a failed one."""
    weight = torch.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = json.loads(evaluate(lambda: float((weight * 3).sum())))  # torch warns: a tensor with requires_grad
    assert value == {"kind": "float", "value": "6.0"}
    assert caught == []


def test_the_grader_judges_tensors_without_importing_torch():
    """The grader judges probes with vaelab.probes: the package's torch modules stay unloaded in its processes."""
    script = f"""
import sys
from coursetool.grade.kernel.runner import Execution
from coursetool.grade.notebook.pipeline import probe_failures
from coursetool.probes import ProbeRecord
same, other = {as_json(torch.arange(3.0))!r}, {as_json(torch.arange(3.0) + 1)!r}
records = [ProbeRecord(id="p", expression="x.mean()", message="the mean is wrong", atol=1e-6, rtol=1e-4)]
assert probe_failures(records, Execution(probes={{"p": same}}), {{"p": same}}) == []
assert probe_failures(records, Execution(probes={{"p": other}}), {{"p": same}}) == ["the mean is wrong (wrong values)"]
assert "torch" not in sys.modules, sorted(m for m in sys.modules if m.startswith("vaelab"))
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
