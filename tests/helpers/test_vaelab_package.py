"""The package loads each public name on first use (PEP 562): every way students reach a name still works."""
import subprocess
import sys

import pytest


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_probe_module_alone_imports_neither_torch_nor_matplotlib():
    run = run_python("import sys, vaelab.probes\n"
                     "assert not {'torch', 'matplotlib'} & set(sys.modules), sorted(m for m in sys.modules if 'vaelab' in m)")
    assert run.returncode == 0, run.stderr


def test_every_public_name_is_listed_and_reachable_every_way():
    run = run_python(
        "import vaelab\n"
        "names = set(vaelab.__all__)\n"
        "assert names <= set(dir(vaelab)), names - set(dir(vaelab))\n"  # what tab completion offers
        "assert {'data', 'nn', 'plots', 'probes', 'train'} <= set(dir(vaelab))\n"
        "from vaelab import load_mnist, fit, show_images\n"
        "assert vaelab.fit is fit and vaelab.train.fit is fit and load_mnist.__module__ == 'vaelab.data'\n"
        "star = {}\n"
        "exec('from vaelab import *', star)\n"
        "assert names <= set(star), names - set(star)\n")
    assert run.returncode == 0, run.stderr


def test_an_unknown_name_is_an_attribute_error():
    import vaelab

    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        vaelab.fitt  # noqa: B018
    with pytest.raises(ImportError):
        exec("from vaelab import fitt", {})
