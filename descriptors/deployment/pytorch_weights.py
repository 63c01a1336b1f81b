"""Published PyTorch weights (`.pth` state dicts) of HardNet, L2-Net, SOSNet and TFeat as Keras models.

The authors' and kornia's checkpoints are PyTorch state dicts: an ordered mapping from parameter names to
tensors, possibly wrapped as ``{"state_dict": ...}`` (DagnyT/hardnet) and possibly prefixed with ``module.``
(saved from `DataParallel`). They are read with ``torch.load(weights_only=True)`` only, which refuses any pickled
object that is not a tensor or a plain container, so no code in a file is ever run. torch is needed for the reading
alone (``pip install torch``; the CPU wheel is enough) and is not a dependency of the rest of the project.

The entries are matched to our layers by their order in the file and checked by shape, not by their names, so the
naming of any port (``features.0.weight``, ``layers.1.weight``, ``module.features...``) works:

- ``hardnet``, ``l2net``, ``sosnet``: seven bias-free convolutions (3x3: 1->32, 32->32, 32->64 stride 2, 64->64,
  64->128 stride 2, 128->128; 8x8: 128->D), each followed by a `BatchNorm2d(affine=False)` (running mean and
  variance; affine BN with weight 1 and bias 0 is accepted too);
- ``tfeat``: conv 7x7 1->F1 with bias, conv 6x6 F1->F2 with bias, linear (8*8*F2)->D with bias.

Each becomes our model with ``pytorch_compatible=True`` where the graphs differ (`HardNet`, `L2Net`, `SOSNet`:
sample std in the input standardisation, symmetric stride-2 padding); `TFeatDescriptor` needs no such mode, its
Dense kernel is reordered from PyTorch's (C, H, W) flattening to Keras' (H, W, C). Every architecture standardises
each patch first, so the pixel scale (kornia feeds 0..1, this project 0..255) changes nothing but the epsilon's
weight on near-constant patches.

Example:
    >>> from descriptors.deployment.pytorch_weights import convert_checkpoint   # doctest: +SKIP
    >>> model = convert_checkpoint("checkpoint_liberty_with_aug.pth", "hardnet")  # doctest: +SKIP
    >>> model.output_shape                                                         # doctest: +SKIP
    (None, 128)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError

ARCHITECTURES = ("hardnet", "l2net", "sosnet", "tfeat")
# (in_channels, out_channels, kernel) of the seven convs of the L2-Net family; None: D, read from the file.
L2NET_CONVS = ((1, 32, 3), (32, 32, 3), (32, 64, 3), (64, 64, 3), (64, 128, 3), (128, 128, 3), (128, None, 8))
BN_STATISTICS = ("running_mean", "running_var")


class WeightsFileError(ValueError):
    """A weights file cannot be read as a state dict, or its tensors do not fit the architecture asked for."""


def read_state_dict(path) -> dict[str, np.ndarray]:
    """Reads a `.pth` state dict with ``torch.load(weights_only=True)`` into float32 numpy arrays, in file order.

    Args:
        path: a file written by ``torch.save(model.state_dict(), path)`` or ``torch.save({"state_dict": ...})``.

    Returns:
        dict name -> numpy array, the ``module.`` prefix of `DataParallel` checkpoints removed and
        ``num_batches_tracked`` counters left out.

    Raises:
        FileNotFoundError: no such file.
        ImportError: torch is not installed.
        WeightsFileError: not a readable PyTorch file, refused by ``weights_only`` (it holds pickled objects
            other than tensors), or not a mapping of names to tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file {str(path)!r}")
    try:
        import torch
    except ImportError as error:
        raise ImportError("Reading .pth files needs PyTorch, which is not installed: `pip install torch` "
                          "(the CPU wheel is enough).") from error
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for a bad file
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise WeightsFileError(f"{str(path)!r} is not a PyTorch state dict that loads with weights_only=True: "
                               f"{reason}") from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state:
        raise WeightsFileError(f"{str(path)!r} must hold a non-empty state dict (names -> tensors). "
                               f"Received: {type(state).__name__}")
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise WeightsFileError(f"{str(path)!r}: entry {name!r} is not a named tensor "
                                   f"(a {type(value).__name__}); expected a state dict")
        if name.endswith("num_batches_tracked"):
            continue
        arrays[name.removeprefix("module.")] = value.detach().to(torch.float32).cpu().numpy()
    return arrays


def _modules(state: dict[str, np.ndarray]) -> list[tuple[str, dict[str, np.ndarray]]]:
    """The parameters grouped by module (the name up to the last dot), in file order."""
    modules: dict[str, dict[str, np.ndarray]] = {}
    for name, array in state.items():
        prefix, _, parameter = name.rpartition(".")
        modules.setdefault(prefix, {})[parameter] = array
    return list(modules.items())


def _shape(array) -> str:
    return str(tuple(int(n) for n in array.shape))


def _take(modules, index, arch, what):
    if index >= len(modules):
        raise WeightsFileError(f"The state dict ends before {what} of {arch}: it has {len(modules)} modules")
    return modules[index]


def _conv(modules, index, arch, in_channels, out_channels, kernel, bias):
    """Checks the conv at ``index`` and returns its Keras weights [(kh, kw, I, O) kernel(, bias)]."""
    what = f"conv {in_channels}->{out_channels or 'N'} {kernel}x{kernel}"
    name, params = _take(modules, index, arch, what)
    weight = params.get("weight")
    out = out_channels if out_channels is not None else (weight.shape[0] if weight is not None else -1)
    if weight is None or weight.shape != (out, in_channels, kernel, kernel):
        got = _shape(weight) if weight is not None else f"parameters {sorted(params)}"
        raise WeightsFileError(f"Module {name!r} must be the {what} of {arch} with weight shape "
                               f"({out_channels or 'N'}, {in_channels}, {kernel}, {kernel}). Received: {got}")
    if bias != ("bias" in params) or (bias and params["bias"].shape != (out,)):
        wanted = f"a bias of shape ({out},)" if bias else "no bias"
        raise WeightsFileError(f"Module {name!r} ({what} of {arch}) must have {wanted}. "
                               f"Received: parameters { {k: _shape(v) for k, v in params.items()} }")
    weights = [weight.transpose(2, 3, 1, 0)]
    return weights + [params["bias"]] if bias else weights


def _batch_norm(modules, index, arch, channels):
    """Checks the BatchNorm2d(affine=False) at ``index`` and returns [moving_mean, moving_variance]."""
    what = f"BatchNorm2d({channels})"
    name, params = _take(modules, index, arch, what)
    stats = [params.get(key) for key in BN_STATISTICS]
    if any(s is None or s.shape != (channels,) for s in stats):
        raise WeightsFileError(f"Module {name!r} must be the {what} of {arch} with running_mean and running_var "
                               f"of shape ({channels},). Received: parameters "
                               f"{ {k: _shape(v) for k, v in params.items()} }")
    if np.any(stats[1] < 0):
        raise WeightsFileError(f"Module {name!r}: running_var must be >= 0. Received: min {stats[1].min()}")
    affine = {k: params[k] for k in ("weight", "bias") if k in params}
    if ("weight" in affine and not np.all(affine["weight"] == 1.0)) or ("bias" in affine and
                                                                        not np.all(affine["bias"] == 0.0)):
        raise WeightsFileError(f"Module {name!r}: an affine BatchNorm (weight != 1 or bias != 0) is not part of "
                               f"{arch}, whose BatchNorm layers have affine=False")
    return stats


def _check_count(modules, used, arch):
    if len(modules) != used:
        extra = [name for name, _ in modules[used:]]
        raise WeightsFileError(f"The state dict has {len(modules)} modules, {arch} has {used}: "
                               f"unexpected {extra[:5]}")


def _l2net_family(modules, arch, bn_epsilon):
    layers = {}
    for number, (in_channels, out_channels, kernel) in enumerate(L2NET_CONVS, start=1):
        index = 2 * (number - 1)
        layers[f"conv{number}"] = _conv(modules, index, arch, in_channels, out_channels, kernel, bias=False)
        channels = layers[f"conv{number}"][0].shape[-1]
        layers[f"bn{number}"] = _batch_norm(modules, index + 1, arch, channels)
    _check_count(modules, 2 * len(L2NET_CONVS), arch)
    from descriptors.models import HardNet, L2Net, SOSNet  # TensorFlow: imported once the file is known good

    cls = {"hardnet": HardNet, "l2net": L2Net, "sosnet": SOSNet}[arch]
    model = cls(descriptor_dim=int(layers["conv7"][0].shape[-1]), bn_epsilon=bn_epsilon, pytorch_compatible=True)
    return model, layers


def _tfeat(modules, arch):
    conv1 = _conv(modules, 0, arch, 1, None, 7, bias=True)
    filters1 = conv1[0].shape[-1]
    conv2 = _conv(modules, 1, arch, filters1, None, 6, bias=True)
    filters2 = conv2[0].shape[-1]
    name, params = _take(modules, 2, arch, "linear")
    weight, bias = params.get("weight"), params.get("bias")
    if weight is None or weight.ndim != 2 or weight.shape[1] != 8 * 8 * filters2 or bias is None \
            or bias.shape != (weight.shape[0],):
        raise WeightsFileError(f"Module {name!r} must be the linear layer of {arch}, weight (D, {8 * 8 * filters2}) "
                               f"and bias (D,). Received: { {k: _shape(v) for k, v in params.items()} }")
    _check_count(modules, 3, arch)
    dim = weight.shape[0]
    # PyTorch flattens (C, H, W), Keras (H, W, C): reorder the Dense input axis.
    kernel = weight.reshape(dim, filters2, 8, 8).transpose(2, 3, 1, 0).reshape(8 * 8 * filters2, dim)
    from descriptors.models import TFeatDescriptor

    model = TFeatDescriptor(descriptor_dim=int(dim), filters=(int(filters1), int(filters2)))
    return model, {"conv1": conv1, "conv2": conv2, "dense": [kernel, bias]}


def convert_state_dict(state: dict[str, np.ndarray], arch: str, bn_epsilon: float = 1e-5):
    """Builds our Keras model of ``arch`` holding the weights of a PyTorch state dict (see the module docstring).

    Args:
        state: name -> array, in the order of the PyTorch modules (`read_state_dict` gives this).
        arch: one of ``ARCHITECTURES``.
        bn_epsilon: the BatchNorm epsilon of the PyTorch model (not stored in a state dict). Defaults to 1e-5,
            PyTorch's default, which HardNet, SOSNet and the L2-Net ports use.

    Returns:
        A `HardNet` / `L2Net` / `SOSNet` (``pytorch_compatible=True``) or `TFeatDescriptor` taking
        (B, 32, 32, 1) float32 pixels and giving what the PyTorch model gives.

    Raises:
        ConfigError: unknown ``arch`` or a bad ``bn_epsilon``.
        WeightsFileError: the tensors do not match the architecture (the message names the module and shapes).
    """
    if arch not in ARCHITECTURES:
        raise ConfigError(f"`arch` must be one of {list(ARCHITECTURES)}. Received: arch={arch!r}")
    if isinstance(bn_epsilon, bool) or not isinstance(bn_epsilon, (int, float)) or not bn_epsilon > 0:
        raise ConfigError(f"`bn_epsilon` must be a positive number. Received: bn_epsilon={bn_epsilon!r}")
    modules = _modules(state)
    bad = [name for name, params in modules if any(not np.all(np.isfinite(a)) for a in params.values())]
    if bad:
        raise WeightsFileError(f"The state dict holds NaN or infinite values in {bad[:5]}")
    model, layers = _tfeat(modules, arch) if arch == "tfeat" else _l2net_family(modules, arch, float(bn_epsilon))
    for name, weights in layers.items():
        model.get_layer(name).set_weights([np.asarray(w, np.float32) for w in weights])
    return model


def convert_checkpoint(path, arch: str, bn_epsilon: float = 1e-5):
    """`read_state_dict` then `convert_state_dict`: a `.pth` file as our Keras model (see both)."""
    return convert_state_dict(read_state_dict(path), arch, bn_epsilon=bn_epsilon)
