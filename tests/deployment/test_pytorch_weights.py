"""Published PyTorch weights in: every architecture converted from a random PyTorch network gives its outputs.

The PyTorch networks are written in `torch_reference_nets.py`; the tests skip when torch is absent (it is pinned
in requirements.txt, so they run in CI).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference_nets import describe, random_net  # noqa: E402

from descriptors.deployment.pytorch_weights import (  # noqa: E402
    ARCHITECTURES,
    WeightsFileError,
    convert_checkpoint,
    convert_state_dict,
    read_state_dict,
)
from descriptors.models import HardNet, L2Net, SOSNet, TFeatDescriptor  # noqa: E402
from descriptors.models.pipeline import DescriptorPipeline  # noqa: E402


def _patches(count=24, seed=0):
    """Uniform noise, smooth blobs and two near-constant patches, pixels 0..255, (N, 32, 32, 1) float32."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (count // 2, 32, 32))
    yy, xx = np.mgrid[:32, :32] / 31.0
    smooth = [128 + 100 * np.sin(rng.uniform(1, 6) * xx + rng.uniform(1, 6) * yy + rng.uniform(0, 6))
              for _ in range(count - count // 2 - 2)]
    flat = [np.full((32, 32), 77.0), 77.0 + (rng.uniform(size=(32, 32)) > 0.5)]
    return np.concatenate([noise, smooth, flat]).astype(np.float32)[..., None]


def assert_matches(got, expected, arch):
    """Equal within 1e-5, except the constant patch (second to last) of the instance-norm networks: PyTorch's
    InstanceNorm2d returns rounding noise (about 2e-4) for it instead of zeros, which the network amplifies;
    ours returns exact zeros. For it 1e-3."""
    got = np.asarray(got)
    constant = len(got) - 2
    rows = np.arange(len(got)) != constant
    np.testing.assert_allclose(got[rows], expected[rows], atol=1e-5, rtol=0)
    np.testing.assert_allclose(got[constant], expected[constant],
                               atol=1e-5 if arch in ("hardnet", "l2net") else 1e-3, rtol=0)


def _save(net, path, wrap=False):
    state = net.state_dict()
    if wrap:  # DagnyT/hardnet checkpoints: {"epoch": ..., "state_dict": ...} saved from DataParallel
        state = {"epoch": 9, "state_dict": {f"module.{k}": v for k, v in state.items()}}
    torch.save(state, path)
    return path


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_converted_weights_give_the_pytorch_outputs(arch, tmp_path):
    net = random_net(arch, seed=3)
    patches = _patches()
    expected = describe(net, patches)
    model = convert_checkpoint(_save(net, tmp_path / f"{arch}.pth", wrap=arch == "hardnet"), arch)
    expected_class = {"hardnet": HardNet, "l2net": L2Net, "sosnet": SOSNet, "tfeat": TFeatDescriptor}[arch]
    assert type(model) is expected_class and model.output_shape == (None, 128)
    got = np.asarray(model.predict_on_batch(patches))
    assert np.abs(expected).max() > 0.05 and expected.std(0).mean() > 0.01  # informative outputs
    assert_matches(got, expected, arch)
    # Saved as a pipeline folder and loaded back: the same numbers.
    pipeline = DescriptorPipeline(model).save(tmp_path / "pipe")
    np.testing.assert_array_equal(DescriptorPipeline.load(pipeline).describe(patches, verbose=False), got)


@pytest.mark.parametrize("arch", ["hardnet", "sosnet"])
def test_pytorch_compatible_mode_is_what_makes_the_outputs_equal(arch):
    """The same weights in the default graph (one-sided stride-2 padding; for HardNet population std too) do
    not reproduce the PyTorch outputs: the compatibility mode is needed."""
    net = random_net(arch, seed=5)
    patches = _patches()
    converted = convert_state_dict({k: v.numpy() for k, v in net.state_dict().items()
                                    if not k.endswith("num_batches_tracked")}, arch)
    default_graph = type(converted)(descriptor_dim=128)
    default_graph.set_weights(converted.get_weights())
    difference = np.abs(np.asarray(default_graph.predict_on_batch(patches)) - describe(net, patches)).max()
    assert difference > 1e-2


def test_descriptor_dim_is_read_from_the_file(tmp_path):
    net = random_net("l2net", seed=1, dim=64)
    model = convert_checkpoint(_save(net, tmp_path / "l2.pth"), "l2net")
    assert model.output_shape == (None, 64)
    np.testing.assert_allclose(model.predict_on_batch(_patches(8)), describe(net, _patches(8)), atol=1e-5, rtol=0)


def test_bn_epsilon_is_used():
    net = random_net("hardnet", seed=2)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps = 1e-3
    state = {k: v.numpy() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    patches = _patches(8)
    np.testing.assert_allclose(convert_state_dict(state, "hardnet", bn_epsilon=1e-3).predict_on_batch(patches),
                               describe(net, patches), atol=1e-5, rtol=0)


def test_affine_batch_norm_with_identity_parameters_is_accepted():
    state = {k: v.numpy() for k, v in random_net("hardnet", seed=4).state_dict().items()
             if not k.endswith("num_batches_tracked")}
    with_affine = {}
    for key, value in state.items():
        with_affine[key] = value
        if key.endswith("running_var"):
            prefix = key.rsplit(".", 1)[0]
            with_affine[f"{prefix}.weight"] = np.ones_like(value)
            with_affine[f"{prefix}.bias"] = np.zeros_like(value)
    patches = _patches(8)
    np.testing.assert_array_equal(convert_state_dict(with_affine, "hardnet").predict_on_batch(patches),
                                  convert_state_dict(state, "hardnet").predict_on_batch(patches))
    with_affine["features.1.weight"] = np.full(32, 2.0, np.float32)
    with pytest.raises(WeightsFileError, match=r"'features\.1'.*affine BatchNorm"):
        convert_state_dict(with_affine, "hardnet")


def _state(arch, seed=0):
    return {k: v.numpy() for k, v in random_net(arch, seed).state_dict().items()
            if not k.endswith("num_batches_tracked")}


@pytest.mark.parametrize(("arch", "edit", "match"), [
    ("hardnet", lambda s: s.pop("features.3.weight"),
     r"Module 'features\.4' must be the conv 32->32 3x3 of hardnet with weight shape \(32, 32, 3, 3\)\. "
     r"Received: parameters \['running_mean', 'running_var'\]"),
    ("hardnet", lambda s: s.update({"features.0.weight": np.zeros((32, 3, 3, 3), np.float32)}),
     r"'features\.0' must be the conv 1->32 3x3 of hardnet with weight shape \(32, 1, 3, 3\)\. "
     r"Received: \(32, 3, 3, 3\)"),
    ("hardnet", lambda s: s.update({"features.0.bias": np.zeros(32, np.float32)}), 
     r"'features\.0' \(conv 1->32 3x3 of hardnet\) must have no bias\. Received: parameters "
     r"\{'weight': '\(32, 1, 3, 3\)', 'bias': '\(32,\)'\}"),
    ("hardnet", lambda s: s.update({"extra.weight": np.zeros((3, 3), np.float32)}),
     r"has 15 modules, hardnet has 14: unexpected \['extra'\]"),
    ("hardnet", lambda s: s.update({"features.1.running_var": -np.ones(32, np.float32)}), r"running_var must be >= 0"),
    ("sosnet", lambda s: s.update({"layers.1.weight": np.full((32, 1, 3, 3), np.nan, np.float32)}),
     r"NaN or infinite values in \['layers\.1'\]"),
    ("tfeat", lambda s: s.update({"descr.0.weight": np.zeros((128, 100), np.float32)}),
     r"'descr\.0' must be the linear layer of tfeat, weight \(D, 4096\)"),
])
def test_mismatched_state_dicts_name_the_module(arch, edit, match):
    state = _state(arch)
    edit(state)
    with pytest.raises(WeightsFileError, match=match):
        convert_state_dict(state, arch)


def test_hardnet_weights_are_not_tfeat():
    with pytest.raises(WeightsFileError, match=r"'features\.0' must be the conv 1->N 7x7 of tfeat"):
        convert_state_dict(_state("hardnet"), "tfeat")


def test_files_that_are_not_plain_state_dicts_are_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"state_dict": {"w": torch.zeros(1)}, "hook": Payload()}, tmp_path / "pickled.pth")
    with pytest.raises(WeightsFileError, match=r"pickled\.pth.*weights_only=True"):
        read_state_dict(tmp_path / "pickled.pth")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(WeightsFileError, match=r"text\.pth.*not a PyTorch state dict"):
        read_state_dict(tmp_path / "text.pth")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(WeightsFileError, match=r"non-empty state dict.*Received: list"):
        read_state_dict(tmp_path / "list.pth")
    torch.save({"w": 3}, tmp_path / "int.pth")
    with pytest.raises(WeightsFileError, match=r"entry 'w' is not a named tensor \(a int\)"):
        read_state_dict(tmp_path / "int.pth")
    with pytest.raises(FileNotFoundError, match="nope"):
        read_state_dict(tmp_path / "nope.pth")


def test_convert_command_writes_a_pipeline_that_gives_the_pytorch_outputs(tmp_path, capsys):
    from descriptors.convert import main

    net = random_net("sosnet", seed=8)
    source = _save(net, tmp_path / "sosnet.pth")
    out = tmp_path / "runs" / "sosnet"
    assert main([str(source), str(out), "--arch", "sosnet"]) == 0
    assert "sosnet (1,335,712 weights, 21 tensors, D=128)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [".patch-descriptors.json", "descriptor.keras", "pipeline.json"]
    patches = _patches(8)
    assert_matches(DescriptorPipeline.load(out).describe(patches, verbose=False), describe(net, patches), "sosnet")
    # Replaced only with --overwrite (a pipeline folder of ours).
    assert main([str(source), str(out), "--arch", "sosnet"]) == 2
    assert main([str(source), str(out), "--arch", "sosnet", "--overwrite"]) == 0
