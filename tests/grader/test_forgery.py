"""Verdicts student code cannot forge: hidden checks are probes judged by the grader, outside the kernel.

Every notebook below is blank or wrong on the cells it attacks; each attack tries to make the
kernel report success, to fake the values the grader reads, or to read hidden test text back.
Each must earn nothing on the cells it attacks, and no feedback page may show a hidden line.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "honestlab"
ZERO = {"t-kl": "0", "t-reparam": "0"}
FAKE_TENSOR = "torch.zeros(1)"

ATTACKS = {
    # the kernel reports success
    "error-replies-sent-as-ok": (
        "ip = get_ipython()\nsend = ip.kernel.session.send\n"
        "def forged(stream, msg, *args, **kwargs):\n"
        "    if isinstance(msg, dict) and msg.get('content', {}).get('status') == 'error':\n"
        "        msg['content'] = {'status': 'ok', 'execution_count': msg['content'].get('execution_count'), "
        "'user_expressions': {}, 'payload': []}\n"
        "    return send(stream, msg, *args, **kwargs)\n"
        "ip.kernel.session.send = forged\n"),
    "input-transformer-drops-tests": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n",
    "compiler-replaced": ("import codeop\nip = get_ipython()\nreal = ip.compile\n"
                          "class Lazy(type(real)):\n    def __call__(self, source, *args, **kwargs):\n"
                          "        return real('pass', *args[1:], **kwargs) if 'assert' in str(source) else real(source, *args, **kwargs)\n"
                          "ip.compile.__class__ = Lazy\n"),
    "guard-poisoned": ("import builtins, json\nfor name in dir(builtins):\n"
                       "    if name.startswith('_grader_'):\n"
                       "        guard = getattr(builtins, name)\n"
                       "        guard.probe = lambda thunk: json.dumps({'kind': 'float', 'value': '3.0'})\n"
                       "        guard.pristine.clear()\n"),
    "guard-reports-odd-names": ("import builtins, json\nfor name in dir(builtins):\n"
                                "    if name.startswith('_grader_'):\n"
                                "        getattr(builtins, name).enter = lambda names: json.dumps(["
                                "'=HYPERLINK(\"http://x\")', '<b>bold</b>', 'two\\nlines', '\\x1b[31mred'])\n"),
    "custom-exception-swallowed": "get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)\n",
    "exit-hook": "import atexit, os\natexit.register(lambda: os._exit(0))\n",
    # the values the grader reads are faked
    "always-equal-object": ("class Anything:\n    shape = (3,)\n    dtype = torch.float32\n"
                            "    def __eq__(self, other):\n        return True\n    def __float__(self):\n        return 3.0\n"
                            "    def __getattr__(self, name):\n        return lambda *a, **k: self\n"
                            "def gaussian_kl(mu, logvar):\n    return Anything()\n"
                            "def reparameterise(mu, logvar):\n    return Anything()\n"),
    "tensor-subclass-says-yes": ("class Yes(torch.Tensor):\n    @classmethod\n"
                                 "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n        return True\n"
                                 f"def gaussian_kl(mu, logvar):\n    return {FAKE_TENSOR}.as_subclass(Yes)\n"),
    "subclass-named-tensor": ("class Tensor(torch.Tensor):\n    __module__ = 'torch'\n"
                              "    def detach(self):\n        return torch.ones(1)\n"
                              "def gaussian_kl(mu, logvar):\n    return torch.zeros(1).as_subclass(Tensor)\n"),
    "builtin-overridden-at-call-time": ("import builtins\n_float = builtins.float\n"
                                        "def reparameterise(mu, logvar):\n    builtins.float = lambda x: 3.0\n    return mu\n"),
    "torch-function-patched": ("torch.allclose = lambda *a, **k: True\ntorch.Tensor.std = lambda self, *a, **k: torch.tensor(2.0)\n"
                               "torch.Tensor.mean = lambda self, *a, **k: torch.tensor(3.0)\n"
                               "def reparameterise(mu, logvar):\n    return mu\n"),
    "json-dumps-forged": ("import json\n_dumps = json.dumps\n"
                          "json.dumps = lambda value, *a, **k: _dumps({'kind': 'float', 'value': '3.0'})\n"),
    "probe-module-replaced": ("import sys, types, json\nfake = types.ModuleType('vaelab.probes')\n"
                              "fake.evaluate = lambda thunk: json.dumps({'kind': 'float', 'value': '2.0'})\n"
                              "sys.modules['vaelab.probes'] = fake\n"),
    "seeding-disabled": "torch.manual_seed = lambda *a, **k: None\nimport random\nrandom.seed = lambda *a, **k: None\n",
    "system-exit-when-probed": ("def gaussian_kl(mu, logvar):\n    raise SystemExit(0)\n"
                                "def reparameterise(mu, logvar):\n    raise KeyboardInterrupt\n"),
    "wrong-dtype-answer": ("def gaussian_kl(mu, logvar):\n    mu, logvar = mu.double(), logvar.double()\n"
                           "    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)\n"),
    "numpy-instead-of-tensor": ("def gaussian_kl(mu, logvar):\n"
                                "    return (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)).numpy()\n"),
    "list-subclass": ("class Rigged(list):\n    pass\n"
                      "def gaussian_kl(mu, logvar):\n    return Rigged([1.0])\n"),
    "enormous-answer": "def gaussian_kl(mu, logvar):\n    return torch.zeros(20_000_000)\n",
    "fake-reference-file": ("import json\nopen('probes.json', 'w').write(json.dumps({'key': 'x', 'values': {}}))\n"),
    "user-expressions-forged": ("ip = get_ipython()\n"
                                "ip.user_expressions = lambda expressions: {name: {'status': 'ok', 'metadata': {}, "
                                "'data': {'text/plain': repr('{\"kind\": \"float\", \"value\": \"0.5\"}')}} "
                                "for name in expressions}\n"),
    "background-thread-rebinds": ("import threading, time\n"
                                  "def keep_rebinding():\n"
                                  "    while True:\n"
                                  "        globals()['gaussian_kl'] = lambda mu, logvar: (mu * 0).sum(-1)\n"
                                  "        time.sleep(0.001)\n"
                                  "threading.Thread(target=keep_rebinding, daemon=True).start()\n"),
    "sys-modules-torch-swapped": ("import sys, types, torch as real_torch\n"
                                  "fake = types.ModuleType('torch')\nfake.__dict__.update(real_torch.__dict__)\n"
                                  "fake.allclose = lambda *args, **kwargs: True\nfake.equal = lambda *args, **kwargs: True\n"
                                  "sys.modules['torch'] = fake\n"),
    "display-formatter-forged": ("ip = get_ipython()\nip.display_formatter.formatters['text/plain'].for_type("
                                 "str, lambda value, printer, cycle: printer.text(repr('{\"kind\": \"float\", \"value\": \"3.0\"}')))\n"),
}

# Correct work that also changes, while a hidden check calls it, what the checks rely on: the cell it attacks
# earns nothing, the other cell its points. Student -> (solution cell, its code, points per test cell).
TAMPERING_WHILE_PROBED = {
    "correct-but-patches-tensor-while-probed": (
        "solution-1", "_numpy = torch.Tensor.numpy\n"
        "def gaussian_kl(mu, logvar):\n"
        "    torch.Tensor.numpy = lambda self, *a, **k: _numpy(self, *a, **k)  # added: shadows the built-in one\n"
        "    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)\n", {"t-kl": "0", "t-reparam": "1"}),
    "json-patched-while-probed": (
        "solution-2", "import json\n_dumps = json.dumps\n"
        "def reparameterise(mu, logvar):\n"
        "    json.dumps = lambda value, *a, **k: _dumps(value, *a, **k)\n"
        "    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)\n", {"t-kl": "2", "t-reparam": "0"}),
}

# Correct work that answers a hidden check with values worked out in advance: the inputs a probe would draw
# under a fixed seed (0, which seeded every probe before each run drew its own). Student -> (cell, code, points).
PREDICTED = {
    "answers-the-float64-probe-for-seed-0": (
        "solution-1", "def gaussian_kl(mu, logvar):\n"
        "    if mu.dtype == torch.float64:  # the probe's torch.randn(4, 3) twice, as seed 0 draws them\n"
        "        g = torch.Generator().manual_seed(0)\n"
        "        mu, logvar = (torch.randn(4, 3, dtype=torch.float64, generator=g) for _ in range(2))\n"
        "    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)\n", {"t-kl": "0", "t-reparam": "1"}),
}

SPY = ("import sys\nseen = []\n"
       "def spy(event, args):\n"
       "    if event in ('compile', 'exec'):\n"
       "        seen.append(str(args[0])[:2000])\n"
       "sys.addaudithook(spy)\n")
ENCODED_READ_BACK = ("import base64, codecs\n"
                     "print('LEAK:' + base64.b64encode(codecs.encode('\\n'.join(seen), 'rot13').encode()).decode())\n")
READ_BACK = ("import linecache\nprint(In)\nprint(_ih)\nprint(list(linecache.cache))\n"
             "print([text for text in seen])\n")


def attacked(course: Path, code: str) -> nbformat.NotebookNode:
    """The blank notebook with the attack in a cell of its own right after the imports."""
    nb = corpus.release(course, LAB)
    nb.cells.insert(nb.cells.index(corpus.cell_by_grade_id(nb, "solution-1")), new_code_cell(code))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, built_course: Path) -> dict:
    root = tmp_path_factory.mktemp("forgery")
    course, submissions = root / "course", root / "submissions"
    shutil.copytree(built_course, course)
    for student, code in ATTACKS.items():
        corpus.write(attacked(course, code), submissions / student / f"{LAB}.ipynb")
    spy = attacked(course, SPY)
    spy.cells.append(new_code_cell(READ_BACK))
    corpus.write(spy, submissions / "hidden-code-read-back" / f"{LAB}.ipynb")
    encoded = attacked(course, SPY)
    encoded.cells.append(new_code_cell(ENCODED_READ_BACK))
    corpus.write(encoded, submissions / "hidden-code-read-back-encoded" / f"{LAB}.ipynb")
    corpus.write(corpus.solved(course, LAB), submissions / "honest" / f"{LAB}.ipynb")
    for student, (cell, code, _) in (TAMPERING_WHILE_PROBED | PREDICTED).items():
        corpus.write(corpus.solved(course, LAB, **{cell: code}), submissions / student / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2", "--cell-timeout", "30") == 0
    rows = grade_rows(course, LAB)
    return {"rows": rows, "course": course}


def test_no_attack_earns_a_point_and_honest_work_earns_all(graded: dict) -> None:
    points = {student: {test: row[test] for test in ZERO} for student, row in graded["rows"].items()}
    assert points.pop("honest") == {"t-kl": "2", "t-reparam": "1"}
    for student, (_, _, expected) in (TAMPERING_WHILE_PROBED | PREDICTED).items():
        assert points.pop(student) == expected, student
    assert points == {student: ZERO for student in points}


def test_hidden_test_code_never_reaches_a_feedback_page(graded: dict) -> None:
    hidden = corpus.hidden_lines(graded["course"], LAB)
    pages = corpus.feedback_texts(graded["course"], LAB)
    assert len(pages) == len(ATTACKS) + len(TAMPERING_WHILE_PROBED) + len(PREDICTED) + 3
    for page, text in pages.items():
        assert not [line for line in hidden if line in text], page


def test_what_code_printed_after_seeing_a_hidden_check_never_reaches_a_feedback_page(graded: dict) -> None:
    """The spy records every probe as the kernel compiles it and prints it rot13- and base64-encoded: no redaction
    could recognise that, so nothing written after the first probe reaches the page but the lab's own messages."""
    nb = nbformat.read(graded["course"] / "autograder" / "autograded" / "hidden-code-read-back-encoded" / LAB /
                       f"{LAB}.ipynb", as_version=4)
    assert not any("LEAK:" in str(output) for cell in nb.cells for output in cell.get("outputs", []))
    for page, text in corpus.feedback_texts(graded["course"], LAB).items():
        assert not re.search(r"LEAK:[A-Za-z0-9+/=]{8,}", text), page  # what it printed, not its source


def test_code_that_reaches_for_internals_is_listed_in_the_report(graded: dict) -> None:
    report = (graded["course"] / "autograder" / "results" / LAB / "report.html").read_text(encoding="utf-8")
    section = report.split("Submissions to look at")[1]
    for student in TAMPERING_WHILE_PROBED:
        row = section.split(f"<td>{student}</td>")[1].split("</tr>")[0]
        assert "while a hidden check ran" in row, student
    for student in ("error-replies-sent-as-ok", "guard-poisoned", "probe-module-replaced", "hidden-code-read-back",
                    "builtin-overridden-at-call-time", "compiler-replaced", "user-expressions-forged",
                    "sys-modules-torch-swapped"):
        assert f"<td>{student}</td>" in section, student
    assert "raised the audit event sys.addaudithook" in section and "<td>honest</td>" not in section


def test_names_a_kernel_reports_are_repeated_only_as_the_guard_writes_them(graded: dict) -> None:
    reason = graded["rows"]["guard-reports-odd-names"]["reason"]
    assert "the grader does not repeat" in reason, reason
    for forged in ("HYPERLINK", "<b>", "\n", "\x1b"):
        assert forged not in reason, forged
