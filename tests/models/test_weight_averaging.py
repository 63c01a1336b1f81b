"""Weight averaging of saved pipelines: the exact weighted mean, one-hot weights reproduce a member, the CLI."""

import json

import keras
import numpy as np
import pytest

from descriptors.average import main as average_main
from descriptors.errors import ConfigError
from descriptors.models.pipeline import DescriptorPipeline
from descriptors.models.registry import build_denoiser, build_descriptor
from descriptors.models.weight_averaging import average_pipelines, load_and_average
from hpatches_eval.output_safety import MARKER


def _pipeline(seed, descriptor="hardnet", denoiser="shallow_unet"):
    keras.utils.set_random_seed(seed)
    built = DescriptorPipeline(build_descriptor(descriptor, descriptor_dim=8),
                               denoiser=build_denoiser(denoiser) if denoiser else None)
    built.describe(np.zeros((1, 32, 32), np.uint8), verbose=False)  # builds the variables
    return built


def _float_weights(model):
    return [w for w in model.get_weights() if np.issubdtype(w.dtype, np.floating)]


def test_every_float_variable_is_the_weighted_mean():
    members = [_pipeline(seed) for seed in (1, 2, 3)]
    before = [(_float_weights(m.descriptor), _float_weights(m.denoiser)) for m in members]
    averaged = average_pipelines(members, weights=[1.0, 1.0, 2.0])
    for part, model in ((0, averaged.descriptor), (1, averaged.denoiser)):
        got = _float_weights(model)
        assert len(got) > 4
        for index, value in enumerate(got):
            expected = 0.25 * before[0][part][index] + 0.25 * before[1][part][index] + 0.5 * before[2][part][index]
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-7)
    assert np.abs(_float_weights(averaged.descriptor)[0] - before[0][0][0]).max() > 1e-4


def test_a_one_hot_weight_reproduces_that_member(rng):
    patches = rng.integers(0, 256, size=(6, 32, 32), dtype=np.uint8)
    second = _pipeline(2)
    expected = second.describe(patches, verbose=False)
    averaged = average_pipelines([_pipeline(1), second], weights=[0.0, 3.0])
    np.testing.assert_allclose(averaged.describe(patches, verbose=False), expected, rtol=1e-5, atol=1e-6)


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match=r"at least two pipelines. Received: 1"):
        average_pipelines([_pipeline(1)])
    with pytest.raises(ConfigError, match=r"`weights` must be 2 non-negative numbers, not all zero. Received: "
                                          r"weights=\[1.0, -1.0\]"):
        average_pipelines([_pipeline(1), _pipeline(2)], weights=[1.0, -1.0])
    with pytest.raises(ConfigError, match=r"the descriptor of 'b' \(L2Net\) differs from that of 'a' \(HardNet\)"):
        average_pipelines([_pipeline(1), _pipeline(2, descriptor="l2net")], names=["a", "b"])
    with pytest.raises(ConfigError, match=r"the denoiser of 'b' \(no model\) differs"):
        average_pipelines([_pipeline(1), _pipeline(2, denoiser=None)], names=["a", "b"])


def test_cli_writes_a_loadable_average_and_exits_non_zero_on_bad_input(tmp_path, rng, capsys):
    folders = [str(_pipeline(seed).save(tmp_path / f"p{seed}")) for seed in (1, 2)]
    patches = rng.integers(0, 256, size=(4, 32, 32), dtype=np.uint8)
    assert average_main([str(tmp_path / "soup"), *folders]) == 0
    loaded = DescriptorPipeline.load(tmp_path / "soup").describe(patches, verbose=False)
    np.testing.assert_allclose(loaded, load_and_average(folders).describe(patches, verbose=False), rtol=1e-5,
                               atol=1e-6)
    assert average_main([str(tmp_path / "x"), folders[0]]) == 2
    assert "needs at least two pipeline folders, got 1" in capsys.readouterr().err
    assert average_main([folders[0], *folders]) == 2
    assert "`OUT_DIR` is the input" in capsys.readouterr().err
    _pipeline(3, descriptor="l2net").save(tmp_path / "other")
    assert average_main([str(tmp_path / "bad"), folders[0], str(tmp_path / "other")]) == 1
    assert "differs from that of" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    assert average_main([str(tmp_path / "bad"), folders[0], str(tmp_path / "missing")]) == 2
    assert "is not a saved pipeline folder (no pipeline.json)" in capsys.readouterr().err
    # An existing pipeline is replaced only with --overwrite; the result is marked as ours.
    assert average_main([str(tmp_path / "soup"), *folders]) == 2
    assert "already holds a pipeline: pass --overwrite" in capsys.readouterr().err
    assert average_main([str(tmp_path / "soup"), *folders, "--weights", "1", "0", "--overwrite"]) == 0
    np.testing.assert_allclose(DescriptorPipeline.load(tmp_path / "soup").describe(patches, verbose=False),
                               DescriptorPipeline.load(folders[0]).describe(patches, verbose=False), rtol=1e-5,
                               atol=1e-6)
    assert json.loads((tmp_path / "soup" / MARKER).read_text())["kind"] == "pipeline"
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
    (tmp_path / "p1" / "descriptor.keras").write_bytes(b"not a keras archive")
    assert average_main([str(tmp_path / "bad"), *folders]) == 1
    err = capsys.readouterr().err
    assert "descriptors.average: error: Model file" in err and "is not a Keras archive" in err
    assert not (tmp_path / "bad").exists()
