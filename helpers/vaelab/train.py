"""One training loop for every lab: progress bars, test evaluation and a history of losses."""

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm
from tqdm.std import tqdm as text_tqdm

from .settings import PLAIN, progress_style

LossTerms = dict[str, torch.Tensor]
LossFn = Callable[[nn.Module, object], torch.Tensor | Mapping[str, torch.Tensor]]

TOTAL = "loss"  # the key of the term that is minimised
_POSTFIX_UPDATES = 10  # times per epoch the batch bar shows the running loss


@dataclass
class History:
    """Per-epoch means of every loss term, on the training and the test set."""

    train: dict[str, list[float]] = field(default_factory=dict)
    test: dict[str, list[float]] = field(default_factory=dict)
    epochs_done: int = 0
    interrupted: bool = False

    def record(self, train: Mapping[str, float], test: Mapping[str, float]) -> None:
        """Add one finished epoch."""
        for split, means in ((self.train, train), (self.test, test)):
            for name, value in means.items():
                split.setdefault(name, []).append(value)
        self.epochs_done += 1


def _to_device(batch, device: torch.device):
    """The batch with its tensors (alone, or in a tuple or list) on `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(item, device) for item in batch)
    return batch


def _first(batch) -> torch.Tensor:
    """The model input of a batch: x of an (x, y) batch, or the batch itself."""
    return batch if isinstance(batch, torch.Tensor) else batch[0]


def _loss_terms(model: nn.Module, batch, loss_fn: LossFn | None) -> LossTerms:
    """The named losses of one batch, with the total under "loss"."""
    out = loss_fn(model, batch) if loss_fn is not None else model(_first(batch))
    if isinstance(out, torch.Tensor):
        return {TOTAL: out}
    if isinstance(out, Mapping) and TOTAL in out:
        return dict(out)
    source = "loss_fn" if loss_fn is not None else "the model"
    raise TypeError(f'{source} must return a scalar tensor or a dict with the total under '
                    f'"{TOTAL}", got {type(out).__name__}'
                    + (f" with keys {list(out)}" if isinstance(out, Mapping) else ""))


class _Means:
    """Running sums of loss terms weighted by batch size, kept on the device (no syncs)."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.batches = 0

    def add(self, terms: LossTerms, batch_size: int) -> None:
        for name, value in terms.items():
            value = torch.as_tensor(value).detach() * batch_size
            self.sums[name] = self.sums[name] + value if name in self.sums else value
        self.count += batch_size
        self.batches += 1

    def result(self) -> dict[str, float]:
        return {name: total.item() / self.count for name, total in self.sums.items()}


def _train_epoch(model: nn.Module, bar: tqdm, optimizer: torch.optim.Optimizer,
                 loss_fn: LossFn | None, clip_grad: float | None,
                 device: torch.device) -> _Means:
    """One pass over the batches of progress bar `bar`; the epoch's running means."""
    model.train()
    means = _Means()
    every = max(1, (bar.total or 10 * _POSTFIX_UPDATES) // _POSTFIX_UPDATES)
    for step, batch in enumerate(bar, start=1):
        batch = _to_device(batch, device)
        terms = _loss_terms(model, batch, loss_fn)
        optimizer.zero_grad(set_to_none=True)
        terms[TOTAL].backward()
        if clip_grad is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        means.add(terms, len(_first(batch)))
        if not bar.disable and step % every == 0:
            bar.set_postfix(loss=f"{means.result()[TOTAL]:.4g}", refresh=False)
    return means


@torch.no_grad()
def _test_epoch(model: nn.Module, loader: Iterable, loss_fn: LossFn | None,
                device: torch.device) -> dict[str, float]:
    """One pass over `loader` in eval mode without gradients; the mean losses."""
    model.eval()
    means = _Means()
    for batch in loader:
        batch = _to_device(batch, device)
        means.add(_loss_terms(model, batch, loss_fn), len(_first(batch)))
    return means.result()


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _epoch_line(epoch: int, epochs: int, batches: int, seconds: float, summary: Mapping[str, str]) -> str:
    """A finished epoch as one line, drawn as tqdm draws a full bar."""
    postfix = ", ".join(f"{name}={value}" for name, value in summary.items())
    return text_tqdm.format_meter(batches, batches, seconds, prefix=f"epoch {epoch}/{epochs}",
                                  unit="batch", postfix=postfix)


def _summary(train: Mapping[str, float], test: Mapping[str, float]) -> dict[str, str]:
    summary = {"train": f"{train[TOTAL]:.4g}"}
    if test:
        summary["test"] = f"{test[TOTAL]:.4g}"
    return summary


def fit(model: nn.Module, train_loader: Iterable, optimizer: torch.optim.Optimizer,
        epochs: int, *, loss_fn: LossFn | None = None, test_loader: Iterable | None = None,
        callback: Callable[[int, History], None] | None = None, clip_grad: float | None = None,
        device: torch.device | str | None = None, progress: bool = True) -> History:
    """Train `model` for `epochs` epochs and return the per-epoch History of every loss term.

    loss_fn(model, batch) returns a scalar tensor or a dict of scalar tensors with the total
    under "loss"; without it, model(x) must return such a dict (x: the first item of the batch).
    The total is minimised; every term is averaged over each epoch (weighted by batch size),
    on `test_loader` too when given. callback(epoch, history) runs after each epoch, with
    epoch counted from 1 (= history.epochs_done) and the model in eval mode. clip_grad clips
    the gradient norm. `device` moves the model and every batch there (default: the model's
    device). Progress shows as live bars, or with VAELAB_PROGRESS=plain as one line per
    finished epoch (see vaelab.progress_style). Ctrl-C stops training cleanly: the history so far is returned, with
    history.interrupted set. The model is left in eval mode.
    """
    if device is not None:
        model.to(device)
    device = torch.device(device) if device is not None else _model_device(model)
    history = History()
    plain = progress and progress_style() == PLAIN
    bars = progress and not plain
    epoch_bar = tqdm(range(1, epochs + 1), desc="epochs", unit="epoch", disable=not bars)
    try:
        for epoch in epoch_bar:
            start = time.perf_counter()
            with tqdm(train_loader, desc=f"epoch {epoch}", unit="batch", leave=False,
                      disable=not bars) as batch_bar:
                means = _train_epoch(model, batch_bar, optimizer, loss_fn, clip_grad, device)
            model.eval()
            train = means.result()
            test = {} if test_loader is None else _test_epoch(model, test_loader, loss_fn, device)
            history.record(train, test)
            epoch_bar.set_postfix(_summary(train, test))
            if plain:
                print(_epoch_line(epoch, epochs, means.batches, time.perf_counter() - start,
                                  _summary(train, test)), flush=True)
            if callback is not None:
                callback(epoch, history)
    except KeyboardInterrupt:
        history.interrupted = True
        tqdm.write(f"Training interrupted after {history.epochs_done} of {epochs} epochs; "
                   f"returning the history so far.")
    finally:
        epoch_bar.close()
        model.eval()
    return history
