"""Probes: values a hidden check computes from the student's code, turned into plain data and compared.

A probe is an expression such as ``gaussian_kl(torch.ones(1, 2), torch.zeros(1, 2))``. It is
evaluated with every random generator seeded (the grader draws the seed for each grading run
and sends it with the probe, so inputs drawn from the generators cannot be known in advance;
``SEED`` otherwise), and its value is encoded as JSON: numbers,
booleans, strings, ``None``, tensors and arrays (dtype, shape and raw bytes), and lists,
tuples and dicts of these. Anything else encodes as "unsupported" and matches nothing. The
grader compares a student's encoded value with the reference solution's, outside the
student's process; ``check_probe`` does the same comparison inside a kernel, for graders who
run nbgrader's own autograde with the reference values in ``probes.json``.

The standard library and numpy only (torch is imported where a probe is evaluated): the
grader imports it (``import vaelab.probes`` loads none of the package's torch modules) to judge without torch.
"""
from __future__ import annotations

import base64
import json
import math
import random
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

SEED = 0
MAX_ELEMENTS = 200_000
DTYPES = {  # tensor dtype name -> numpy dtype its bytes are stored as
    "float64": "<f8", "float32": "<f4", "float16": "<f2", "bfloat16": "<f4", "int64": "<i8", "int32": "<i4",
    "int16": "<i2", "int8": "i1", "uint8": "u1", "bool": "?", "complex64": "<c8", "complex128": "<c16",
}
REFERENCE_FILE = "probes.json"


class ProbeDataError(ValueError):
    """Encoded data that does not follow the format: treated as a wrong answer, never executed."""


def encode(value: Any, budget: list[int] | None = None) -> dict[str, Any]:
    """Plain JSON-ready data for a probe's value."""
    budget = budget if budget is not None else [MAX_ELEMENTS]
    kind = type(value)
    if value is None:
        return {"kind": "none"}
    if kind is bool or kind is np.bool_:
        return {"kind": "bool", "value": bool(value)}
    if kind is int or isinstance(value, np.integer):
        return {"kind": "int", "value": int(value)}
    if kind is float or isinstance(value, np.floating):
        return {"kind": "float", "value": repr(float(value))}
    if kind is str:
        return {"kind": "str", "value": value[:10_000]}
    if kind is np.ndarray:
        return encode_array(value, str(value.dtype), "array", budget)
    if type(value).__name__ in ("Tensor", "Parameter") and type(value).__module__.startswith("torch"):
        return encode_tensor(value, budget)
    if kind in (tuple, list) or type(value).__name__ == "Size":
        return {"kind": "list" if kind is list else "tuple", "items": [encode(item, budget) for item in value]}
    if kind is dict and all(type(key) is str for key in value):
        return {"kind": "dict", "items": {key: encode(item, budget) for key, item in value.items()}}
    return {"kind": "unsupported", "type": f"{type(value).__module__}.{type(value).__qualname__}"[:200]}


def encode_tensor(tensor: Any, budget: list[int]) -> dict[str, Any]:
    dtype = str(tensor.dtype).removeprefix("torch.")
    if dtype not in DTYPES:
        return {"kind": "unsupported", "type": f"tensor of {dtype}"}
    plain = tensor.detach().cpu()
    plain = plain.float() if dtype == "bfloat16" else plain
    return encode_array(plain.numpy(), dtype, "tensor", budget)


def encode_array(array: np.ndarray, dtype: str, kind: str, budget: list[int]) -> dict[str, Any]:
    if dtype not in DTYPES:
        return {"kind": "unsupported", "type": f"{kind} of {dtype}"}
    budget[0] -= array.size
    if budget[0] < 0:
        return {"kind": "unsupported", "type": f"more than {MAX_ELEMENTS} numbers"}
    data = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
    return {"kind": kind, "dtype": dtype, "shape": list(array.shape), "data": base64.b64encode(data).decode("ascii")}


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


@contextmanager
def probing_state(seed: int = SEED) -> Iterator[None]:
    """The state every reference value was computed in: every generator seeded with ``seed``, gradients on, torch's own default
    dtype (float32; a notebook may set float64 honestly). The notebook's own generator states, gradient mode and
    default dtype are given back afterwards, so that a probe changes nothing the student's later cells compute."""
    torch = sys.modules.get("torch")  # only a notebook that uses torch has torch state to keep
    python_state, numpy_state = random.getstate(), np.random.get_state()
    torch_state = (torch.random.get_rng_state(), torch.is_grad_enabled(), torch.get_default_dtype()) if torch else None
    seed_everything(seed)
    try:
        if torch is not None:
            torch.set_grad_enabled(True)
            torch.set_default_dtype(torch.float32)
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if torch_state is not None:
            torch.random.set_rng_state(torch_state[0])
            torch.set_grad_enabled(torch_state[1])
            torch.set_default_dtype(torch_state[2])


def evaluate(thunk: Callable[[], Any], seed: int = SEED) -> str:
    """The probe's value (or its error) as JSON text, with every generator seeded with ``seed`` first.

    Warnings are silenced: they are not the student's to see, and nbgrader takes a cell that
    wrote to stderr for a failed one.
    """
    try:
        with probing_state(seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = thunk()
    except Exception as error:  # noqa: BLE001 - a student's error is an answer too
        return json.dumps({"kind": "error", "type": type(error).__name__, "message": str(error)[:500]})
    return json.dumps(encode(value))


# -- reading encoded data back (no pickle, nothing executed) ------------------------------------------

def decode(data: Any, depth: int = 0) -> Any:
    """Validate encoded data and turn arrays into numpy arrays; ProbeDataError if it is malformed."""
    if depth > 20 or not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise ProbeDataError("not probe data")
    kind = data["kind"]
    if kind in ("none", "unsupported", "error"):
        return data
    if kind in ("bool", "int", "str"):
        expected = {"bool": bool, "int": int, "str": str}[kind]
        if type(data.get("value")) is not expected:
            raise ProbeDataError(f"a {kind} without its value")
        return data
    if kind == "float":
        try:
            return {"kind": "float", "value": float(str(data.get("value")))}
        except ValueError:
            raise ProbeDataError("a float that is not a number") from None
    if kind in ("tensor", "array"):
        return {**data, "value": decode_array(data)}
    if kind in ("list", "tuple") and isinstance(data.get("items"), list):
        return {"kind": kind, "items": [decode(item, depth + 1) for item in data["items"]]}
    if kind == "dict" and isinstance(data.get("items"), dict):
        return {"kind": "dict", "items": {str(k): decode(v, depth + 1) for k, v in data["items"].items()}}
    raise ProbeDataError(f"unknown kind {kind!r}")


def decode_array(data: dict[str, Any]) -> np.ndarray:
    dtype, shape = data.get("dtype"), data.get("shape")
    if dtype not in DTYPES or not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ProbeDataError("an array with a bad dtype or shape")
    if math.prod(shape) > MAX_ELEMENTS or not isinstance(data.get("data"), str):
        raise ProbeDataError("an array too large or without data")
    raw = base64.b64decode(data["data"], validate=True)
    numpy_dtype = np.dtype(DTYPES[dtype])
    if len(raw) != math.prod(shape) * numpy_dtype.itemsize:
        raise ProbeDataError("an array whose data does not fit its shape")
    return np.frombuffer(raw, dtype=numpy_dtype).reshape(shape)


def describe(data: dict[str, Any], messages: bool = True) -> str:
    """The value in words, never its numbers; ``messages`` False: an error's message only where the grader wrote it
    (a student's exception message is the student's code speaking, and may carry what it saw of a hidden check)."""
    kind = data["kind"]
    if kind in ("tensor", "array"):
        return f"a {kind} of {data['dtype']} with shape {tuple(data['shape'])}"
    if kind in ("list", "tuple"):
        return f"a {kind} of {len(data['items'])}"
    if kind == "unsupported":
        return f"a {data['type']} object" if messages else "an object of a kind probes do not compare"
    if kind == "error":
        if messages or data.get("by") == "grader":
            return f"an error ({data.get('type')}: {data.get('message')})"
        return f"an error ({data.get('type')})"
    return {"none": "None"}.get(kind, f"a {kind}")


def compare(expected: Any, got: Any, atol: float, rtol: float) -> str | None:
    """None when ``got`` matches ``expected`` (both decoded); else what differs, in words without values."""
    if got["kind"] != expected["kind"] or got["kind"] in ("unsupported", "error"):
        return f"expected {describe(expected)}, got {describe(got, messages=False)}"
    kind = got["kind"]
    if kind in ("tensor", "array"):
        if got["dtype"] != expected["dtype"] or got["shape"] != expected["shape"]:
            return f"expected {describe(expected)}, got {describe(got)}"
        same = np.allclose(got["value"], expected["value"], atol=atol, rtol=rtol, equal_nan=True) \
            if got["value"].dtype.kind in "fc" else np.array_equal(got["value"], expected["value"])
        return None if same else "wrong values"
    if kind == "float":
        a, b = got["value"], expected["value"]
        same = (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
        return None if same else "wrong value"
    if kind in ("bool", "int", "str", "none"):
        return None if got.get("value") == expected.get("value") else "wrong value"
    if kind in ("list", "tuple"):
        if len(got["items"]) != len(expected["items"]):
            return f"expected {describe(expected)}, got {describe(got)}"
        for position, (e, g) in enumerate(zip(expected["items"], got["items"])):
            problem = compare(e, g, atol, rtol)
            if problem:
                return f"item {position}: {problem}"
        return None
    if set(got["items"]) != set(expected["items"]):
        return "a dict with other keys"
    for key in expected["items"]:
        problem = compare(expected["items"][key], got["items"][key], atol, rtol)
        if problem:
            return f"key {key!r}: {problem}"
    return None


def judge(expected_json: str, got_json: str, atol: float, rtol: float) -> str | None:
    """Compare two encoded values: None when they match, else why not."""
    try:
        got = decode(json.loads(got_json))
    except (ValueError, TypeError, ProbeDataError) as error:
        return f"unreadable answer ({error})"
    return compare(decode(json.loads(expected_json)), got, atol, rtol)


def reference_path(folder: Path) -> Path:
    """``probes.json`` beside the notebook, else in the lab's folder of the nbgrader course's ``source/``
    (autograde runs in ``<course>/autograded/<student>/<lab>``; the course keeps the file out of that folder)."""
    beside = folder / REFERENCE_FILE
    if beside.exists() or len(folder.parents) < 3:
        return beside
    return folder.parents[2] / "source" / folder.name / REFERENCE_FILE


def check_probe(probe_id: str, thunk: Callable[[], Any], message: str, atol: float, rtol: float) -> None:
    """In a kernel: evaluate a probe and compare it with ``probes.json``; AssertionError(message) if it differs.

    Used when nbgrader's own autograde runs the tests; the course's grader evaluates probes
    itself and compares them outside the student's process.
    """
    path = reference_path(Path.cwd())
    if not path.exists():
        raise RuntimeError(f"{REFERENCE_FILE} is missing: run `python -m coursetool grade` (or the course check) "
                           "once so that the reference solution's values are computed")
    stored = json.loads(path.read_text(encoding="utf-8"))
    expected = stored["values"].get(probe_id)
    if expected is None:
        raise RuntimeError(f"{REFERENCE_FILE} has no value for probe {probe_id}: compute the reference values again")
    problem = judge(expected, evaluate(thunk, int(stored.get("seed", SEED))), atol, rtol)
    if problem:
        raise AssertionError(f"{message} ({problem})")
