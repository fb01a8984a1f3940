"""Measure again the numbers the labs' text states, in quick mode, and print each beside the text's.

    python bench/measure_lab_numbers.py [--labs 1 2 3 4 5] [--seeds 10] [--weak-seeds 5] [--standin]
                                        [--executed DIR]

Each lab's source is run as its full solution (`#!` lines are comments) in a fresh kernel, in
quick mode with progress printed plainly, on the real MNIST digits of
../shared/data/mnist-t10k-shuffled when that folder is beside the checkout (else on whatever
VAELAB_DATA holds, or the generated stand-in, which the first line of the output names;
`--standin` points VAELAB_DATA at an empty folder, so that the stand-in is used). After
the lab's own cells, extra cells measure what the text states: the open-ended exercises'
reference solution over `--seeds` training seeds and a plausible weak attempt over
`--weak-seeds`, each with its pass rate, and the other numbers the text quotes. Every line
printed is

    lab N | what | measured | the text says

`--executed DIR` also writes each executed notebook to DIR (`labN.ipynb`), so that what the
lab's own cells printed can be read beside the text.

Run by hand; it changes nothing. On a 2-core machine that other work shares, a lab can take over an hour.
"""

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = (REPO / "../shared/data/mnist-t10k-shuffled").resolve()
LABS = {
    1: "lab1_autoencoders",
    2: "lab2_transposed_convolutions",
    3: "lab3_kl_and_vae",
    4: "lab4_elbo",
    5: "lab5_variational_inference",
}

# Defined in every kernel before the extra cells: how a measured line is printed.
PRELUDE = '''
import statistics as _statistics
import time
import torch as _torch

def say(what, measured, text):
    fields = (str(field).replace("|", "¦") for field in (what, measured, text))  # | separates the fields
    print("MEASURED|" + "|".join(fields), flush=True)

def spread(values, digits=1):
    values = list(values)
    return (f"{min(values):.{digits}f} to {max(values):.{digits}f} "
            f"(median {_statistics.median(values):.{digits}f}, {len(values)} seeds)")

def pass_rate(values, ok):
    return f"{sum(1 for v in values if ok(v))}/{len(values)} pass"

def best_of_sweep(run, rates, seeds=3):
    """The rate of `rates` whose median of run(rate, seed) over the first `seeds` seeds is lowest."""
    return min(rates, key=lambda rate: _statistics.median(run(rate, seed) for seed in range(seeds)))

DATA_KIND = "the stand-in" if vaelab.load_mnist(train=False, limit=1).is_standin else "real digits"
say("data", f"{DATA_KIND} from {vaelab.data_root()}, quick mode {vaelab.quick_mode()}", "")
'''

EXTRA = {
    1: '''
ref = [denoising_test_loss(seed) for seed in range(SEEDS)]
say("ex 1.10 reference, squared error", spread(ref) + ", " + pass_rate(ref, lambda v: v < goal), f"goal below {goal:g}")
_saved = make_denoiser, DENOISER_LR
_RATES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)

def _with(model, rate, seed):
    global make_denoiser, DENOISER_LR
    make_denoiser, DENOISER_LR = model, rate
    return denoising_test_loss(seed)

class _UNet(torch.nn.Module):
    """A second design: one pooling stage, and a skip connection that keeps the full-resolution features."""

    def __init__(self, width=12):
        super().__init__()
        nn = torch.nn
        self.top = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.low = nn.Sequential(
            nn.MaxPool2d(2), nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 2, stride=2), nn.BatchNorm2d(width), nn.ReLU(),
        )
        self.out = nn.Sequential(nn.Conv2d(2 * width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                 nn.Conv2d(width, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x):
        h = self.top(x)
        return self.out(torch.cat([h, self.low(h)], dim=1))

def _dense_autoencoder():
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 31), nn.ReLU(), nn.Linear(31, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))

weak = [_with(ConvAutoencoder, 1e-3, seed) for seed in range(WEAK_SEEDS)]
say("ex 1.10 weak: ConvAutoencoder of 1.6, lr 1e-3", spread(weak) + ", " + pass_rate(weak, lambda v: v < goal), "must fail")
for _name, _model in (("ConvAutoencoder of 1.6", ConvAutoencoder), ("784-31-784 autoencoder", _dense_autoencoder)):
    _start = time.perf_counter()
    _best = best_of_sweep(lambda rate, seed: _with(_model, rate, seed), _RATES)
    weak = [_with(_model, _best, seed) for seed in range(SEEDS)]
    say(f"ex 1.10 weak: {_name}, best lr of {_RATES} (by median over seeds 0 to 2)",
        f"lr {_best:g}: " + spread(weak) + ", " + pass_rate(weak, lambda v: v < goal), "must fail (at 30 or above)")
    say(f"ex 1.10 weak: {_name}, seconds for the sweep and the seeds", f"{time.perf_counter() - _start:.0f}", "")
_start = time.perf_counter()
second = [_with(_UNet, 1e-2, seed) for seed in range(SEEDS)]
say("ex 1.10 second design: one pooling stage with a skip connection, lr 1e-2", spread(second) + ", " + pass_rate(second, lambda v: v < goal), "must pass")
say("ex 1.10 seconds per run of the second design", f"{(time.perf_counter() - _start) / SEEDS:.1f}", "")
_start = time.perf_counter()
make_denoiser, DENOISER_LR = _saved
denoising_test_loss(0)
say("ex 1.10 seconds per run of the reference", f"{time.perf_counter() - _start:.1f}", "under about 30")
_test = vaelab.load_mnist(train=False, limit=512).images
_noisy = _test + 0.5 * _torch.randn(_test.shape, generator=_torch.Generator().manual_seed(12345))
say("ex 1.10 returning the noisy input", f"{((_noisy - _test) ** 2).flatten(1).sum(1).mean().item():.1f}", "about 196 (195.5)")
# The signal through the convolutions of Exercise 1.6 without batch normalisation, at PyTorch's initialisation.
_torch.manual_seed(0)
_convs = [_torch.nn.Conv2d(1, 16, 3, padding=1), _torch.nn.Conv2d(16, 32, 3, padding=1), _torch.nn.Conv2d(32, 4, 3, padding=1)]
_h, _rms = _test[:256], [ _test[:256].pow(2).mean().sqrt().item() ]
with _torch.no_grad():
    for _i, _conv in enumerate(_convs):
        _h = _conv(_h)
        _rms.append(_h.pow(2).mean().sqrt().item())
        _h = _torch.nn.functional.max_pool2d(_torch.relu(_h), 2, ceil_mode=True)
say("1.6 RMS of input and of each conv output, no batch norm", " -> ".join(f"{r:.2f}" for r in _rms), "0.30 -> 0.12 -> 0.06 after the three convolutions")
''',
    2: '''
_digits = vaelab.load_mnist(train=False, limit=512).images
say("ex 2.9 all-black guess", f"{_digits.pow(2).flatten(1).sum(1).mean().item():.1f}", "88 on real digits, 74 on the stand-in")
_pairs = vaelab.load_mnist(train=False, limit=513).images
_overlaid = torch.maximum(_pairs[:-1].rot90(1, (2, 3)), _pairs[1:].flip(3))
say("ex 2.9 all-black guess of the overlaid digits", f"{_overlaid.pow(2).flatten(1).sum(1).mean().item():.1f}", "the hidden check's images")
ref = [inversion_error(seed, _digits) for seed in range(SEEDS)]
say("ex 2.9 reference, squared error", spread(ref, 2) + ", " + pass_rate(ref, lambda v: v < 10), "goal below 10; under 0.01 for all ten")
ref = [inversion_error(seed, _overlaid) for seed in range(SEEDS)]
say("ex 2.9 reference on the overlaid digits", spread(ref, 2) + ", " + pass_rate(ref, lambda v: v < 10), "goal below 10")

def _look_up(layer, features):
    """A forbidden answer: the test digit whose features are nearest."""
    known = vaelab.load_mnist(train=False).images
    with torch.no_grad():
        table = layer(known).flatten(1)
    return known[torch.cdist(features.flatten(1), table).argmin(1)]

_saved = invert
invert = _look_up
_cheat = inversion_error(3, _digits), inversion_error(3, _overlaid)
invert = _saved
say("ex 2.9 looking the features up in the test digits, layer seed 3", f"test digits {_cheat[0]:.2f}, overlaid digits {_cheat[1]:.2f}", "passes on the test digits, fails the hidden check")

def _transposed_guess(layer, features):
    back = F.conv_transpose2d(features, layer[0].weight, stride=2, padding=2, output_padding=1)
    return (back / back.flatten(1).amax(1).clamp_min(1e-8).view(-1, 1, 1, 1)).clamp(0, 1)

_saved = invert
invert = _transposed_guess
weak = [inversion_error(seed, _digits) for seed in range(max(WEAK_SEEDS, 10))]
invert = _saved
say("ex 2.9 weak: transposed convolution rescaled to [0, 1]", spread(weak) + ", " + pass_rate(weak, lambda v: v < 10), "18 to 38 on real digits (19 to 59 on the stand-in), seeds 0 to 9, must fail")
''',
    3: '''
for _context in (783, 0):
    _r = measure_strong(train_strong(plain_elbo, _context))
    say(f"3.9 plain ELBO, context {_context}", f"negative ELBO {_r['nelbo']:.1f}, KL {_r['kl']:.2f}, used {_r['used']:.1f}", "783: 93.3, 1.86, 9.3; 0: 133.3, 14.5, 230")
ref = [outcome_of_remedy(seed) for seed in range(SEEDS)]
ok = lambda v: v[1] >= used_goal and v[0] <= nelbo_goal
say("ex 3.10 reference, negative ELBO", spread(v[0] for v in ref), f"goal at most {nelbo_goal:g}; 97 to 98")
say("ex 3.10 reference, code used", spread(v[1] for v in ref) + ", " + pass_rate(ref, ok), f"goal at least {used_goal:g}; 33 to 41")
_saved = remedy_loss, REMEDY_CONTEXT
for _name, _loss, _context in (("plain ELBO, context 783", plain_elbo, 783), ("plain ELBO, context 0", plain_elbo, 0)):
    remedy_loss, REMEDY_CONTEXT = _loss, _context
    weak = [outcome_of_remedy(seed) for seed in range(WEAK_SEEDS)]
    say(f"ex 3.10 weak: {_name}", "negative ELBO " + spread(v[0] for v in weak) + "; used " + spread(v[1] for v in weak) + "; " + pass_rate(weak, ok), "783: used 3 to 18; 0: 131 to 137; must fail")
remedy_loss, REMEDY_CONTEXT = _saved
''',
    4: '''
_start = time.perf_counter()
ref = [budget_nelbo(seed) for seed in range(SEEDS)]
_goal = globals().get("budget_goal", 210.0)
say("ex 4.12 reference, negative ELBO on moved digits", spread(ref) + ", " + pass_rate(ref, lambda v: v <= _goal), f"goal at most {_goal:g}")
say("ex 4.12 seconds per run of the reference", f"{(time.perf_counter() - _start) / SEEDS:.1f}", "")
_saved = make_budget_vae, BUDGET_LR, moved_digits
_RATES = (1e-3, 3e-3, 1e-2, 3e-2)

class _Section4(torch.nn.Module):
    """The 784-400-20 model of section 4 with the interface of Exercise 4.12."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 400), torch.nn.ReLU())
        self.mean_head, self.std_head = torch.nn.Linear(400, 20), torch.nn.Linear(400, 20)
        self.decoder = torch.nn.Sequential(torch.nn.Linear(20, 400), torch.nn.ReLU(), torch.nn.Linear(400, 784))

    def encode(self, x):
        h = self.body(x)
        return self.mean_head(h), torch.nn.functional.softplus(self.std_head(h)) + 1e-4

    def decode_logits(self, z):
        return self.decoder(z)

class _StridedConvVAE(torch.nn.Module):
    """A second design: strided and transposed convolutions, a 1 x 7 x 7 code."""

    def __init__(self, width=16):
        super().__init__()
        nn = torch.nn
        self.body = nn.Sequential(nn.Conv2d(1, width // 2, 4, 2, 1), nn.ReLU(), nn.Conv2d(width // 2, width, 4, 2, 1), nn.ReLU())
        self.mean_head, self.std_head = nn.Conv2d(width, 1, 3, padding=1), nn.Conv2d(width, 1, 3, padding=1)
        self.decoder = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(width // 2, 1, 4, 2, 1))

    def encode(self, x):
        h = self.body(x)
        return self.mean_head(h).flatten(1), torch.nn.functional.softplus(self.std_head(h)).flatten(1) + 1e-4

    def decode_logits(self, z):
        return self.decoder(z.view(len(z), 1, 7, 7)).flatten(1)

def _with(model, rate, seed, moving=True):
    global make_budget_vae, BUDGET_LR, moved_digits
    make_budget_vae, BUDGET_LR = model, rate
    moved_digits = _saved[2] if moving else (lambda images: images)
    return budget_nelbo(seed)

weak = [_with(_Section4, 1e-3, seed) for seed in range(WEAK_SEEDS)]
say("ex 4.12 weak: 784-400-20, lr 1e-3, moved digits", spread(weak) + ", " + pass_rate(weak, lambda v: v <= _goal), "must fail")
_best = best_of_sweep(lambda rate, seed: _with(_Section4, rate, seed), _RATES)
weak = [_with(_Section4, _best, seed) for seed in range(SEEDS)]
say(f"ex 4.12 weak: 784-400-20, best lr of {_RATES} (by median over seeds 0 to 2), moved digits",
    f"lr {_best:g}: " + spread(weak) + ", " + pass_rate(weak, lambda v: v <= _goal), "must fail")
centred = [_with(_Section4, _best, seed, moving=False) for seed in range(SEEDS)]
say(f"ex 4.12 784-400-20, lr {_best:g}, digits as they are", spread(centred), "")
_start = time.perf_counter()
second = [_with(_StridedConvVAE, 1e-2, seed) for seed in range(SEEDS)]
say("ex 4.12 second design: strided convolutions, 1 x 7 x 7 code, lr 1e-2", spread(second) + ", " + pass_rate(second, lambda v: v <= _goal), "must pass")
say("ex 4.12 seconds per run of the second design", f"{(time.perf_counter() - _start) / SEEDS:.1f}", "")
make_budget_vae, BUDGET_LR, moved_digits = _saved
''',
    5: '''
def _variances(seed):
    _torch.manual_seed(seed)
    grad_mu, grad_std = estimates(lambda z: z**2, 1.0, 1.0)
    return grad_mu.var().item(), grad_std.var().item()
ref = [_variances(seed) for seed in range(SEEDS)]
ok = lambda v: v[0] <= 6 and v[1] <= 30
say("ex 5.7 reference, variance d/dmu", spread((v[0] for v in ref), 2), "goal at most 6")
say("ex 5.7 reference, variance d/dstd", spread((v[1] for v in ref), 2) + ", " + pass_rate(ref, ok), "goal at most 30")

def _plain_score(f, mu, std, n=4):
    eps = _torch.randn(n, *mu.shape, dtype=mu.dtype)
    values = f(mu + std * eps)
    return (values * eps / std).mean(0), (values * (eps**2 - 1) / std).mean(0)

_saved = better_score_grad
better_score_grad = _plain_score
weak = [_variances(seed) for seed in range(WEAK_SEEDS)]
better_score_grad = _saved
say("ex 5.7 weak: plain score function, 4 samples", "d/dmu " + spread((v[0] for v in weak), 2) + "; d/dstd " + spread((v[1] for v in weak), 2) + "; " + pass_rate(weak, ok), "7.5 and about 34, must fail")
# As the lab's cell draws them: seed 0, then each model's one-sample estimate and its L_100 in turn.
_torch.manual_seed(0)
for _name, _model in (("collapsed", models_2d["diagonal"]), ("free bits", free_bits_model)):
    with _torch.no_grad():
        _out = _model(data_2d["diagonal"][1])
        _l100 = -iwae_bound(_model.log_weights(data_2d["diagonal"][1], 100)).mean().item()
    say(f"5.4 diagonal, {_name}", f"negative ELBO {(_out['rec'] + _out['kl']).item():.4f}, KL {_out['kl'].item():.4f}, -L_100 {_l100:.4f}",
        "collapsed 3.943, KL 0.007, -L_100 3.941; free bits 3.983, KL 0.59, -L_100 3.946")
for _kind in kinds:
    say(f"5.4 {_kind}", ", ".join(f"{k} {v:.3f}" for k, v in results_2d[_kind].items()), "quick mode, correlated: KL 1.059, enc std 0.37")
''',
}


def environment(standin: bool) -> dict[str, str]:
    env = dict(os.environ)
    env |= {"VAELAB_QUICK": "1", "VAELAB_OFFLINE": "1", "VAELAB_PROGRESS": "plain", "MPLBACKEND": "Agg"}
    if standin:
        env["VAELAB_DATA"] = tempfile.mkdtemp(prefix="vaelab-no-data-")
    elif (SHARED_MNIST / "MNIST").is_dir():
        env["VAELAB_DATA"] = str(SHARED_MNIST)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def measure(lab: int, seeds: int, weak_seeds: int, standin: bool, executed: Path | None) -> list[str]:
    """Run lab `lab` with its extra cells; the lines its MEASURED prints gave, and its errors.

    When `executed` is a folder, the executed notebook is written there as labN.ipynb.
    """
    notebook = jupytext.read(REPO / "source" / f"{LABS[lab]}.md")
    setup = f"SEEDS, WEAK_SEEDS = {seeds}, {weak_seeds}\n" + textwrap.dedent(PRELUDE)
    notebook.cells += [nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(EXTRA[lab])]
    os.environ.update(environment(standin))
    # No time limit per cell: the extra cells train dozens of models, over an hour on a loaded machine.
    client = NotebookClient(notebook, timeout=None, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(REPO)}})
    client.execute()
    if executed is not None:
        executed.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, executed / f"lab{lab}.ipynb")
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines.append(f"lab {lab} | ERROR in a cell | {output['ename']}: {output['evalue']} |")
            if output.get("output_type") == "stream":
                for line in output["text"].splitlines():
                    if line.startswith("MEASURED|"):
                        _, what, measured, text = line.split("|", 3)
                        lines.append(f"lab {lab} | {what} | {measured} | {text}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, nargs="+", default=list(LABS))
    parser.add_argument("--seeds", type=int, default=10, help="training seeds of each reference solution")
    parser.add_argument("--weak-seeds", type=int, default=5, help="training seeds of each weak attempt")
    parser.add_argument("--standin", action="store_true", help="measure on the generated stand-in")
    parser.add_argument("--executed", type=Path, help="a folder to write the executed notebooks to")
    args = parser.parse_args()
    for lab in args.labs:
        start = time.time()
        for line in measure(lab, args.seeds, args.weak_seeds, args.standin, args.executed):
            print(line, flush=True)
        print(f"lab {lab} | time | {time.time() - start:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
