import pytest

from descriptors.errors import ConfigError
from descriptors.models import CourseworkBaseline, FullUNet, HardNet, L2Net, ShallowUNet
from descriptors.models.registry import DENOISERS, DESCRIPTORS, build_denoiser, build_descriptor


def test_descriptor_names_and_kwargs():
    assert sorted(DESCRIPTORS) == ["coursework_baseline", "hardnet", "hynet", "l2net", "sosnet", "tfeat"]
    assert type(build_descriptor("coursework_baseline")) is CourseworkBaseline
    assert type(build_descriptor("l2net", descriptor_dim=8)) is L2Net
    hardnet = build_descriptor("hardnet", descriptor_dim=8, dropout=0.1)
    assert type(hardnet) is HardNet and hardnet.output_shape == (None, 8) and hardnet.dropout == 0.1


def test_denoiser_presets():
    assert sorted(DENOISERS) == ["coursework_shallow_unet", "full_unet", "shallow_unet"]
    coursework = build_denoiser("coursework_shallow_unet")
    assert type(coursework) is ShallowUNet and coursework.count_params() == 59_777
    assert (coursework.residual, coursework.input_scale) == (False, 1.0)
    improved = build_denoiser("shallow_unet")
    assert (improved.residual, improved.input_scale) == (True, 1 / 255)
    assert build_denoiser("shallow_unet", residual=False).residual is False
    full = build_denoiser("full_unet", base_filters=4, depth=2)
    assert type(full) is FullUNet and full.depth == 2


@pytest.mark.parametrize(
    ("builder", "name", "match"),
    [
        (build_descriptor, "sift", r"`name` must be one of the descriptor names \['coursework_baseline', 'hardnet', "
                                   r"'hynet', 'l2net', 'sosnet', 'tfeat'\]\. Received: name='sift'"),
        (build_denoiser, "dncnn", r"`name` must be one of the denoiser names \['coursework_shallow_unet', "
                                  r"'full_unet', 'shallow_unet'\]\. Received: name='dncnn'"),
    ],
)
def test_unknown_names_list_the_choices(builder, name, match):
    with pytest.raises(ConfigError, match=match):
        builder(name)


def test_unknown_keyword_is_a_config_error():
    with pytest.raises(ConfigError, match=r"Invalid arguments for descriptor 'coursework_baseline'"):
        build_descriptor("coursework_baseline", descriptor_dim=64)
    with pytest.raises(ConfigError, match=r"`depth` of FullUNet must be an integer"):
        build_denoiser("full_unet", depth=0)


@pytest.mark.parametrize("cls", [ShallowUNet, FullUNet, L2Net, HardNet, CourseworkBaseline])
def test_misspelt_keyword_is_not_silently_dropped(cls):
    match = rf"{cls.__name__}\.__init__\(\) got unexpected keyword arguments \['desc_dim'\]"
    with pytest.raises(TypeError, match=match):
        cls(desc_dim=64)
