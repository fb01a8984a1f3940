"""Progress display: plain final lines when nobody watches, live widgets in a Jupyter kernel."""
from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

import vaelab
from vaelab import settings

WIDGET = "application/vnd.jupyter.widget-view+json"
EPOCHS = 3
TRAINING = f"""\
import torch
import vaelab

model = torch.nn.Linear(2, 1)
data = vaelab.batches(torch.randn(64, 2), 16, seed=0)
loss_fn = lambda m, x: m(x).pow(2).mean()
history = vaelab.fit(model, data, torch.optim.SGD(model.parameters(), lr=0.1), {EPOCHS},
                     loss_fn=loss_fn, test_loader=data)"""


@pytest.mark.parametrize("value, style", [("plain", "plain"), (" Plain ", "plain"), ("bars", "bars")])
def test_the_setting_decides(monkeypatch, value, style):
    monkeypatch.setenv("VAELAB_PROGRESS", value)
    assert vaelab.progress_style() == style


def test_a_misspelt_setting_is_refused(monkeypatch):
    monkeypatch.setenv("VAELAB_PROGRESS", "widgets")
    with pytest.raises(ValueError, match='"plain" or "bars"'):
        vaelab.progress_style()


def test_unset_bars_in_a_kernel_or_terminal_else_plain(monkeypatch):
    monkeypatch.delenv("VAELAB_PROGRESS", raising=False)
    monkeypatch.setattr(settings, "_in_kernel", lambda: False)
    monkeypatch.setattr(settings.sys.stderr, "isatty", lambda: False)
    assert vaelab.progress_style() == "plain"
    monkeypatch.setattr(settings.sys.stderr, "isatty", lambda: True)
    assert vaelab.progress_style() == "bars"
    monkeypatch.setattr(settings.sys.stderr, "isatty", lambda: False)
    monkeypatch.setattr(settings, "_in_kernel", lambda: True)
    assert vaelab.progress_style() == "bars"


def run_headless(**env: str) -> list[nbformat.NotebookNode]:
    """Execute the training cell in a fresh kernel, as the grader does; its outputs."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TRAINING)])
    base = {k: v for k, v in os.environ.items() if k != "VAELAB_PROGRESS"}
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(env={**base, **env})
    return nb.cells[0].outputs


@pytest.mark.kernels
def test_headless_run_records_a_final_line_per_epoch_and_no_widget():
    outputs = run_headless(VAELAB_PROGRESS="plain")
    assert not any(WIDGET in output.get("data", {}) for output in outputs)
    text = "".join(output.text for output in outputs if output.output_type == "stream")
    lines = text.splitlines()
    assert "\r" not in text and len(lines) == EPOCHS, text
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {epoch}/{EPOCHS}: 100%|") and "| 4/4 [" in line, line


@pytest.mark.kernels
def test_a_kernel_keeps_live_widget_bars_by_default():
    pytest.importorskip("ipywidgets")
    outputs = run_headless()
    assert any(WIDGET in output.get("data", {}) for output in outputs)
    assert not any("100%|" in output.get("text", "") for output in outputs)
