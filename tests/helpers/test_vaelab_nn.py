"""Building blocks, and what the package must not hold."""

import pytest
import torch
from torch import nn

import vaelab


def test_mlp_puts_activations_between_layers_only():
    model = vaelab.mlp([784, 400, 20])
    assert [type(m) for m in model] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (model[0].in_features, model[0].out_features) == (784, 400)
    assert (model[2].in_features, model[2].out_features) == (400, 20)
    assert model(torch.zeros(5, 784)).shape == (5, 20)


@pytest.mark.parametrize("final", [nn.Sigmoid, nn.Sigmoid()])
def test_mlp_final_activation_as_class_or_module(final):
    model = vaelab.mlp([3, 4, 5, 2], activation=nn.Tanh(), final_activation=final)
    assert [type(m) for m in model] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear,
                                        nn.Sigmoid]
    out = model(torch.randn(6, 3) * 100)
    assert out.min() >= 0 and out.max() <= 1


def test_mlp_needs_two_sizes():
    with pytest.raises(ValueError, match="two sizes"):
        vaelab.mlp([10])


def test_conv_stacks_halve_and_double_the_size():
    encoder = vaelab.conv_encoder([3, 8, 16], final_activation=nn.ReLU)
    decoder = vaelab.conv_decoder([16, 8, 3], final_activation=nn.Sigmoid())
    assert [type(m) for m in encoder] == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU]
    assert [type(m) for m in decoder] == [nn.ConvTranspose2d, nn.ReLU, nn.ConvTranspose2d,
                                          nn.Sigmoid]
    for layer in (encoder[0], decoder[0]):  # as documented: kernel 4, stride 2, padding 1
        assert (layer.kernel_size, layer.stride, layer.padding) == ((4, 4), (2, 2), (1, 1))
    h = encoder(torch.randn(2, 3, 32, 32))
    assert h.shape == (2, 16, 8, 8) and h.min() >= 0
    assert decoder(h).shape == (2, 3, 32, 32)
    assert vaelab.conv_encoder([1, 4])(torch.zeros(1, 1, 28, 28)).shape == (1, 4, 14, 14)
    with pytest.raises(ValueError):
        vaelab.conv_decoder([4])


def test_reshape_keeps_the_batch_dimension():
    layer = vaelab.Reshape(1, 28, 28)
    assert layer(torch.zeros(3, 784)).shape == (3, 1, 28, 28)
    assert layer(torch.zeros(3, 28, 28).transpose(1, 2)).shape == (3, 1, 28, 28)
    assert "1, 28, 28" in repr(layer)


@pytest.mark.parametrize("context", [0, 1, 5, 15])
def test_autoregressive_decoder_reads_only_its_context(context):
    torch.manual_seed(0)
    decoder = vaelab.AutoregressiveDecoder(latent_dim=3, context=context, hidden=8, side=4)
    with torch.no_grad():
        decoder.from_before.weight.normal_()
    z, x = torch.randn(2, 3), torch.rand(2, 1, 4, 4, requires_grad=True)
    logits = decoder(z, x)
    assert logits.shape == (2, 1, 4, 4)
    for pixel in range(16):
        (grad,) = torch.autograd.grad(logits.flatten(1)[0, pixel], x, retain_graph=True)
        read = set(torch.nonzero(grad[0].flatten()).flatten().tolist())
        assert read == set(range(max(0, pixel - context), pixel))


def test_autoregressive_decoder_uses_the_code_and_checks_the_context():
    decoder = vaelab.AutoregressiveDecoder(latent_dim=2, context=0, hidden=4, side=3)
    x = torch.zeros(1, 1, 3, 3)
    assert not torch.equal(decoder(torch.zeros(1, 2), x), decoder(torch.ones(1, 2), x))
    assert "context=0" in repr(decoder)
    with pytest.raises(ValueError, match="context"):
        vaelab.AutoregressiveDecoder(latent_dim=2, context=9, side=3)


@pytest.mark.parametrize("shape, expected", [
    ((4, 784), (4, 1, 28, 28)), ((4, 3072), (4, 3, 32, 32)), ((4, 28, 28), (4, 1, 28, 28)),
    ((4, 3, 32, 32), (4, 3, 32, 32)),
])
def test_to_images_infers_the_shape(shape, expected):
    assert vaelab.to_images(torch.zeros(shape)).shape == expected


def test_to_images_with_an_explicit_shape_and_an_unknown_one():
    assert vaelab.to_images(torch.zeros(2, 12), (3, 2, 2)).shape == (2, 3, 2, 2)
    with pytest.raises(ValueError, match="shape="):
        vaelab.to_images(torch.zeros(2, 10))


def test_count_parameters():
    assert vaelab.count_parameters(vaelab.mlp([784, 400, 20])) == 784 * 400 + 400 + 400 * 20 + 20
    assert vaelab.count_parameters(nn.ReLU()) == 0


# Names a lab asks the student to write: none may be importable from vaelab.
FORBIDDEN = ["kl", "reparam", "elbo", "iwae", "vae", "autoencoder", "normal_nll", "normal_kl",
             "gaussian_nll", "anneal", "schedule", "interpolate", "lerp", "slerp", "noise",
             "denois", "unpool", "undo", "deconv", "logsumexp", "sample_latent", "evaluate"]


def test_no_lab_answers_are_importable():
    import vaelab.data, vaelab.nn, vaelab.plots, vaelab.runtime, vaelab.settings  # noqa: E401
    import vaelab.standin, vaelab.train  # noqa: E401

    modules = [vaelab, vaelab.data, vaelab.nn, vaelab.plots, vaelab.runtime, vaelab.settings,
               vaelab.standin, vaelab.train]
    names = {name.lower() for module in modules for name in vars(module)
             if not name.startswith("_")}
    found = sorted(n for n in names for bad in FORBIDDEN if bad in n)
    assert not found, f"vaelab exposes names that look like lab exercises: {found}"
    assert set(vaelab.__all__) <= set(dir(vaelab))
