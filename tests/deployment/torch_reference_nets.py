"""The published PyTorch networks, written from their papers and reference code, for the converter's tests.

Each class holds its layers in the order (and with the module naming) of a published checkpoint, so that its
`state_dict()` has the layout of the real `.pth` files: DagnyT/hardnet and kornia (`features.N`), kornia's SOSNet
(`layers.N`), vbalnt/tfeat and kornia (`features.N`, `descr.0`); the L2-Net port uses named attributes (`conv1`,
`bn1`, ...) to check that matching goes by order and shape, not by name.
"""

import torch
from torch import nn

# (in, out, stride) of the six 3x3 convs of L2-Net, HardNet and SOSNet.
TRUNK = ((1, 32, 1), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2), (128, 128, 1))


def trunk_layers(dropout, dim):
    layers = []
    for cin, cout, stride in TRUNK:
        layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                   nn.BatchNorm2d(cout, affine=False), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return layers + [nn.Conv2d(128, dim, 8, bias=False), nn.BatchNorm2d(dim, affine=False)]


def hardnet_input_norm(x):
    """HardNet's `input_norm`: per-patch mean and sample std (torch.std), epsilon 1e-7 added to the std."""
    flat = x.flatten(1)
    mean = flat.mean(1).view(-1, 1, 1, 1)
    std = flat.std(1).view(-1, 1, 1, 1) + 1e-7
    return (x - mean) / std


def l2_norm(x):
    return x / torch.sqrt((x * x).sum(1, keepdim=True) + 1e-10)


class HardNetTorch(nn.Module):
    def __init__(self, dim=128):
        super().__init__()
        self.features = nn.Sequential(*trunk_layers(0.3, dim))

    def forward(self, x):
        return l2_norm(self.features(hardnet_input_norm(x)).flatten(1))


class L2NetTorch(nn.Module):
    def __init__(self, dim=128):
        super().__init__()
        for index, layer in enumerate(module for module in trunk_layers(0.0, dim) if not isinstance(module, nn.ReLU)):
            setattr(self, f"{'conv' if isinstance(layer, nn.Conv2d) else 'bn'}{index // 2 + 1}", layer)

    def forward(self, x):
        x = hardnet_input_norm(x)
        for index in range(1, 8):
            x = getattr(self, f"bn{index}")(getattr(self, f"conv{index}")(x))
            if index < 7:
                x = torch.relu(x)
        return l2_norm(x.flatten(1))


class SOSNetTorch(nn.Module):
    def __init__(self, dim=128):
        super().__init__()
        self.layers = nn.Sequential(nn.InstanceNorm2d(1, affine=False), *trunk_layers(0.1, dim))
        # LRN over all 2*dim channels with alpha = size, beta 0.5, k 0: x / ||x||, as SOSNet writes it.
        self.desc_norm = nn.Sequential(nn.LocalResponseNorm(2 * dim, alpha=2 * dim, beta=0.5, k=0))

    def forward(self, x):
        return self.desc_norm(self.layers(x) + 1e-10).flatten(1)


class TFeatTorch(nn.Module):
    def __init__(self, dim=128):
        super().__init__()
        self.features = nn.Sequential(nn.InstanceNorm2d(1, affine=False), nn.Conv2d(1, 32, 7), nn.Tanh(),
                                      nn.MaxPool2d(2, 2), nn.Conv2d(32, 64, 6), nn.Tanh())
        self.descr = nn.Sequential(nn.Linear(64 * 8 * 8, dim), nn.Tanh())

    def forward(self, x):
        return self.descr(self.features(x).flatten(1))


NETS = {"hardnet": HardNetTorch, "l2net": L2NetTorch, "sosnet": SOSNetTorch, "tfeat": TFeatTorch}


def random_net(arch, seed, dim=128):
    """A network of ``arch`` in eval mode with random weights and BatchNorm statistics of random patches (then
    perturbed, so that they are not exactly the batch's)."""
    torch.manual_seed(seed)
    net = NETS[arch](dim)
    batch_norms = [module for module in net.modules() if isinstance(module, nn.BatchNorm2d)]
    if batch_norms:
        for module in batch_norms:
            module.momentum = 1.0  # running statistics := those of the next training batch
        net.train()
        with torch.no_grad():
            net(255.0 * torch.rand(64, 1, 32, 32))
            for module in batch_norms:
                module.running_mean.add_(0.05 * torch.randn(module.num_features))
                module.running_var.mul_(0.8 + 0.4 * torch.rand(module.num_features))
    return net.eval()


def describe(net, patches):
    """``patches`` (N, 32, 32, 1) float32 numpy -> (N, D) numpy, as the PyTorch network computes them."""
    with torch.no_grad():
        return net(torch.from_numpy(patches.transpose(0, 3, 1, 2).copy())).numpy()
