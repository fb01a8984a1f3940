"""The training loop: losses, history, evaluation, callback, interruption, clipping."""

import pytest
import torch
from torch import nn

import vaelab


class MeanModel(nn.Module):
    """Returns the batch mean of x as its loss (and twice that as a second term)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))
        self.modes: list[bool] = []
        self.grad_enabled: list[bool] = []

    def forward(self, x):
        self.modes.append(self.training)
        self.grad_enabled.append(torch.is_grad_enabled())
        loss = x.float().mean() + 0 * self.w
        return {"loss": loss, "double": 2 * loss.detach()}


def _frozen(model):
    return torch.optim.SGD(model.parameters(), lr=0.0)


def test_history_holds_weighted_epoch_means_of_every_term():
    model = MeanModel()
    x = torch.arange(10).float()  # batches of 4, 4 and 2: the mean of batch means is not 4.5
    history = vaelab.fit(model, vaelab.batches(x, 4, shuffle=False), _frozen(model), 3,
                         test_loader=vaelab.batches(x[:3], 2, shuffle=False), progress=False)
    assert history.epochs_done == 3 and not history.interrupted
    assert history.train["loss"] == pytest.approx([4.5] * 3)
    assert history.train["double"] == pytest.approx([9.0] * 3)
    assert history.test["loss"] == pytest.approx([1.0] * 3)
    assert set(history.test) == {"loss", "double"}


def test_train_and_eval_modes_and_no_gradients_in_evaluation():
    model = MeanModel()
    x = torch.zeros(6, 1)
    vaelab.fit(model, vaelab.batches(x, 3), _frozen(model), 1,
               test_loader=vaelab.batches(x, 6), progress=False)
    assert model.modes == [True, True, False]
    assert model.grad_enabled == [True, True, False]
    assert not model.training


def test_loss_fn_returning_a_tensor_is_recorded_as_loss():
    model = nn.Linear(1, 1)
    seen = []

    def loss_fn(m, batch):
        x, y = batch
        seen.append(len(x))
        return ((m(x) - y) ** 2).mean()

    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    data = vaelab.batches((x, 3 * x + 1), 16, seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    history = vaelab.fit(model, data, optimizer, 30, loss_fn=loss_fn, progress=False)
    assert list(history.train) == ["loss"] and history.test == {}
    assert seen[:4] == [16, 16, 16, 16]
    assert history.train["loss"][-1] < 0.01 * history.train["loss"][0], "it did not learn"


def test_a_loss_dict_without_the_total_is_refused():
    model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match='"loss"'):
        vaelab.fit(model, vaelab.batches(torch.zeros(4, 1)), _frozen(model), 1,
                   loss_fn=lambda m, x: {"total": m(x).sum()}, progress=False)


def test_callback_runs_after_each_epoch_counting_from_one():
    model = MeanModel()
    calls = []

    def callback(epoch, history):
        calls.append((epoch, history.epochs_done, len(history.train["loss"]), model.training))

    vaelab.fit(model, vaelab.batches(torch.ones(4)), _frozen(model), 3, callback=callback,
               progress=False)
    assert calls == [(1, 1, 1, False), (2, 2, 2, False), (3, 3, 3, False)]


def test_ctrl_c_in_the_callback_returns_the_history_so_far():
    model = MeanModel()

    def callback(epoch, history):
        if epoch == 2:
            raise KeyboardInterrupt

    history = vaelab.fit(model, vaelab.batches(torch.ones(4)), _frozen(model), 5,
                         callback=callback, progress=False)
    assert history.interrupted and history.epochs_done == 2
    assert len(history.train["loss"]) == 2


def test_ctrl_c_in_the_middle_of_an_epoch_keeps_only_finished_epochs(capsys):
    model = nn.Linear(1, 1)
    steps = []

    def loss_fn(m, x):
        steps.append(1)
        if len(steps) == 5:
            raise KeyboardInterrupt
        return m(x).mean()

    history = vaelab.fit(model, vaelab.batches(torch.zeros(6, 1), 2), _frozen(model), 3,
                         loss_fn=loss_fn, test_loader=vaelab.batches(torch.zeros(2, 1)),
                         progress=False)
    assert history.interrupted and history.epochs_done == 1
    assert len(history.train["loss"]) == len(history.test["loss"]) == 1
    assert "interrupted after 1 of 3 epochs" in capsys.readouterr().out
    assert not model.training


def _step_size(clip_grad):
    model = nn.Linear(10, 1, bias=False)
    nn.init.zeros_(model.weight)
    loss_fn = lambda m, x: 1000 * m(x).sum()  # noqa: E731
    vaelab.fit(model, vaelab.batches(torch.ones(1, 10)), torch.optim.SGD(model.parameters(), lr=1),
               1, loss_fn=loss_fn, clip_grad=clip_grad, progress=False)
    return model.weight.norm().item()


def test_clip_grad_limits_the_gradient_norm():
    assert _step_size(None) == pytest.approx(1000 * 10**0.5)
    assert _step_size(0.5) == pytest.approx(0.5, rel=1e-4)


def test_device_moves_model_and_batches():
    model = nn.Linear(3, 1)
    seen = []

    def loss_fn(m, x):
        seen.append((x.device.type, m.weight.device.type))
        return torch.ones((), requires_grad=True)  # a meta tensor cannot be read back

    vaelab.fit(model, [torch.ones(2, 3)], _frozen(model), 1, loss_fn=loss_fn, device="meta",
               progress=False)
    assert seen == [("meta", "meta")]


def test_progress_bars_show_and_hide(capsys, monkeypatch):
    monkeypatch.setenv("VAELAB_PROGRESS", "bars")
    model = MeanModel()
    vaelab.fit(model, vaelab.batches(torch.ones(4)), _frozen(model), 2)
    assert "epochs" in capsys.readouterr().err
    vaelab.fit(model, vaelab.batches(torch.ones(4)), _frozen(model), 2, progress=False)
    assert capsys.readouterr() == ("", "")


def test_plain_progress_prints_one_final_line_per_epoch(capsys, monkeypatch):
    monkeypatch.setenv("VAELAB_PROGRESS", "plain")
    model = MeanModel()
    vaelab.fit(model, vaelab.batches(torch.ones(10), 4), _frozen(model), 2,
               test_loader=vaelab.batches(torch.zeros(2)))
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and "\r" not in out and len(lines) == 2
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {epoch}/2: 100%|") and "| 3/3 [" in line, line
        assert line.endswith("train=1, test=0]"), line
    vaelab.fit(model, vaelab.batches(torch.ones(4)), _frozen(model), 2, progress=False)
    assert capsys.readouterr() == ("", "")


def test_plain_loader_without_length_works():
    model = MeanModel()
    batches = (torch.full((2,), float(i)) for i in range(3))
    history = vaelab.fit(model, batches, _frozen(model), 1, progress=True)
    assert history.train["loss"] == [1.0]
