"""Throughput benchmark: descriptor extraction, training steps and hpatches_eval vs reference implementations.

Median of ``--repeats`` timed runs after one warm-up, all rows in one process on the same machine:
inference patches/s on the same 32x32 patches (Keras HardNet, the shipped denoiser + HardNet pipeline, OpenCV SIFT,
a minimal PyTorch HardNet) with HardNet's achieved GFLOP/s (convs counted analytically) vs a float32 numpy matmul;
training pairs/s (512 pairs, hardest-in-batch, Adam) in Keras vs PyTorch; hpatches_eval (all three tasks) vs the
official-style per-pair reference of ``bench_hpatches_eval.py`` (imported) on a split-a-sized problem, with the max
abs difference of the numbers.
torch is pinned in requirements.txt (the CPU build); without it the PyTorch rows are skipped with a note.

Usage: ``.venv/bin/python benchmarks/bench_throughput.py [--quick] [--repeats 3] [--out FILE]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hpatches_eval.results import write_json_atomic  # noqa: E402

TARGETS = {"inference_vs_torch": 1.5, "training_vs_torch": 1.3, "hpatches_eval_vs_naive": 20.0}


def timed(fn, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine_info() -> dict:
    """CPU count and model (/proc/cpuinfo), load average and library versions."""
    import cv2
    import keras
    import tensorflow as tf

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    info = {"cpu_count": os.cpu_count(), "cpu_model": models[0] if models else "unknown",
            "python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "load_average": list(os.getloadavg()), "keras": keras.__version__, "tensorflow": tf.__version__,
            "opencv": cv2.__version__, "keras_backend": keras.backend.backend(), "torch": None}
    parts = torch_hardnet()
    if parts is not None:
        info.update(torch=parts[0].__version__, torch_threads=parts[0].get_num_threads())
    return info


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """float32 numpy matmul GFLOP/s (2 n^3 flops), the machine's practical dense ceiling."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    return 2.0 * n**3 / timed(lambda: a @ b, repeats) / 1e9


def conv_flops(model) -> int:
    """Forward FLOPs per patch of every Conv2D layer: ``2 * H_out * W_out * C_in * C_out * k_h * k_w``."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            total += 2 * h * w * cin * cout * kh * kw
    return int(total)


def load_patches(count: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """``count`` noisy 32x32 patches of the default dataset if it is already built, else random uint8 patches."""
    from descriptors.data.default import default_root

    root = default_root()
    if (root / "build_info.json").is_file():
        from descriptors.data.formats import HPatchesRelease

        source = HPatchesRelease(root / "nhpatches", noisy=True)
        parts, total = [], 0
        for seq in source.sequences:
            for patch_type in ("ref", "e1", "h1", "t1"):
                parts.append(source.load(seq, patch_type))
                total += len(parts[-1])
            if total >= count:
                break
        patches = np.concatenate(parts)
        if len(patches) >= count:
            return patches[:count], f"default dataset noisy patches ({root})"
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, 32, 32), dtype=np.uint8), "random uint8 patches"


def torch_hardnet():
    """A minimal PyTorch HardNet (DagnyT/hardnet layout) and its hardest-in-batch loss, or None without torch."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None

    class TorchHardNet(nn.Module):
        def __init__(self):
            super().__init__()
            layers, cin = [], 1
            for cout, stride in ((32, 1), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1)):
                layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout, affine=False),
                           nn.ReLU()]
                cin = cout
            layers += [nn.Dropout(0.3), nn.Conv2d(128, 128, 8, bias=False), nn.BatchNorm2d(128, affine=False)]
            self.features = nn.Sequential(*layers)

        def forward(self, x):
            flat = x.view(x.size(0), -1)
            mean, std = flat.mean(1), flat.std(1) + 1e-7
            x = (x - mean[:, None, None, None]) / std[:, None, None, None]
            x = self.features(x).view(x.size(0), -1)
            return x / x.norm(dim=1, keepdim=True).clamp_min(1e-10)

    def loss_fn(anchor, positive, margin=1.0, min_distance=0.008):
        dist = torch.cdist(anchor, positive)
        eye = torch.eye(len(dist), dtype=torch.bool)
        invalid = eye | (dist < min_distance)
        masked = dist.masked_fill(invalid, float(dist.max().detach()) + margin + 1.0)
        hardest = torch.minimum(masked.min(1).values, masked.min(0).values)
        return torch.relu(margin + dist.diagonal() - hardest).mean()

    return torch, TorchHardNet, loss_fn


def inference_rows(patches, repeats, batch_size=512) -> tuple[list, dict]:
    import keras

    from descriptors.baselines import SiftPatchDescriptor
    from descriptors.pretrained import load_default_pipeline

    pipeline = load_default_pipeline()
    hardnet = pipeline.descriptor
    flops = conv_flops(hardnet)
    x = patches.astype(np.float32)[..., None]
    n = len(patches)
    rows = []
    hardnet_s = timed(lambda: hardnet.predict(x, batch_size=batch_size, verbose=0), repeats)
    rows.append({"row": "inference: Keras HardNet", "patches_per_s": n / hardnet_s, "gflops": flops * n / hardnet_s / 1e9})
    pipe_s = timed(lambda: pipeline.describe(patches, batch_size=batch_size, verbose=False), repeats)
    rows.append({"row": "inference: shipped pipeline (denoiser + HardNet)", "patches_per_s": n / pipe_s})
    sift = SiftPatchDescriptor()
    sift_s = timed(lambda: sift(patches), repeats)
    rows.append({"row": "inference: OpenCV SIFT (centre keypoint)", "patches_per_s": n / sift_s})
    torch_parts = torch_hardnet()
    if torch_parts is not None:
        torch, TorchHardNet, _ = torch_parts
        net = TorchHardNet().eval()
        xt = torch.from_numpy(patches.astype(np.float32)[:, None])

        def run_torch():
            with torch.no_grad():
                for start in range(0, n, batch_size):
                    net(xt[start:start + batch_size])

        torch_s = timed(run_torch, repeats)
        rows.append({"row": "inference: PyTorch HardNet (reference)", "patches_per_s": n / torch_s,
                     "gflops": flops * n / torch_s / 1e9})
    keras.backend.clear_session()
    return rows, {"hardnet_flops_per_patch": flops}


def training_rows(patches, repeats, steps, batch_pairs=512) -> list:
    import keras

    from descriptors.losses.hardnet import HardestInBatchLoss
    from descriptors.models.hardnet import HardNet
    from descriptors.training.tuple_encoder import TupleEncoder

    rng = np.random.default_rng(1)
    pick = rng.choice(len(patches), 2 * batch_pairs, replace=len(patches) < 2 * batch_pairs)
    pairs = patches[pick].astype(np.float32).reshape(batch_pairs, 2, 32, 32, 1)
    keras.utils.set_random_seed(0)
    model = TupleEncoder(HardNet(), name="bench_trainer")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=HardestInBatchLoss())
    y = np.zeros((batch_pairs,), np.float32)

    def keras_steps():
        for _ in range(steps):
            model.train_on_batch(pairs, y)

    keras_s = timed(keras_steps, repeats)
    rows = [{"row": "training: Keras HardNet (hardest-in-batch, Adam)", "pairs_per_s": steps * batch_pairs / keras_s}]
    torch_parts = torch_hardnet()
    if torch_parts is not None:
        torch, TorchHardNet, loss_fn = torch_parts
        torch.manual_seed(0)
        net = TorchHardNet().train()
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        xt = torch.from_numpy(pairs[..., 0])  # (B, 2, 32, 32)

        def torch_steps():
            for _ in range(steps):
                codes = net(xt.reshape(-1, 1, 32, 32)).view(batch_pairs, 2, -1)
                loss = loss_fn(codes[:, 0], codes[:, 1])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        torch_s = timed(torch_steps, repeats)
        rows.append({"row": "training: PyTorch HardNet (reference)", "pairs_per_s": steps * batch_pairs / torch_s})
    keras.backend.clear_session()
    return rows


def hpatches_eval_rows(quick: bool, repeats: int, seed: int = 0) -> tuple[list, dict]:
    """All three tasks: the library at full split-a size vs the official-style reference (``bench_hpatches_eval``)."""
    import bench_hpatches_eval as bench

    sizes = {"pairs": 5_000, "sequences": 2, "queries": 100} if quick else {"pairs": 50_000, "sequences": 4,
                                                                           "queries": 500}
    report = bench.run_benchmark(bench.QUICK if quick else bench.FULL, repeats, seed, sizes)
    rows = []
    for task, item in report["naive"]["tasks"].items():
        rows.append({"row": f"hpatches_eval {task}: official-style reference (extrapolated)",
                     "seconds": item["reference_full_s_extrapolated"]})
        rows.append({"row": f"hpatches_eval {task}: library", "seconds": item["library_full_s"]})
    return rows, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer patches/steps and the small hpatches_eval problem")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row (median reported)")
    parser.add_argument("--patches", type=int, default=4096)
    parser.add_argument("--train-steps", type=int, default=3, help="training steps per timed run")
    parser.add_argument("--skip-eval", action="store_true", help="skip the hpatches_eval rows")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "throughput.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.patches, args.train_steps, args.repeats = min(args.patches, 1024), 1, min(args.repeats, 2)
    started = time.perf_counter()
    info = machine_info()
    print(f"machine: {info['cpu_count']} CPUs, {info['cpu_model']}, load average {info.get('load_average')}", flush=True)
    ceiling = matmul_gflops()
    patches, patch_source = load_patches(args.patches)
    inf_rows, flop_info = inference_rows(patches, args.repeats)
    print("inference done", flush=True)
    train_rows = training_rows(patches, args.repeats, args.train_steps)
    print("training done", flush=True)
    eval_rows, eval_info = ([], None) if args.skip_eval else hpatches_eval_rows(args.quick, args.repeats)
    rows = inf_rows + train_rows + eval_rows
    by = {r["row"]: r for r in rows}
    ratios = {}
    torch_inf = by.get("inference: PyTorch HardNet (reference)")
    if torch_inf:
        ratios["inference_vs_torch"] = by["inference: Keras HardNet"]["patches_per_s"] / torch_inf["patches_per_s"]
    torch_train = by.get("training: PyTorch HardNet (reference)")
    if torch_train:
        ratios["training_vs_torch"] = (by["training: Keras HardNet (hardest-in-batch, Adam)"]["pairs_per_s"]
                                       / torch_train["pairs_per_s"])
    if eval_info:
        ratios["hpatches_eval_vs_naive"] = eval_info["naive"]["speedup"]
        for task, item in eval_info["naive"]["tasks"].items():
            ratios[f"hpatches_eval_{task}_vs_naive"] = item["speedup"]
    ratios["keras_hardnet_vs_sift"] = (by["inference: Keras HardNet"]["patches_per_s"]
                                       / by["inference: OpenCV SIFT (centre keypoint)"]["patches_per_s"])
    ratios["hardnet_fraction_of_matmul_ceiling"] = by["inference: Keras HardNet"]["gflops"] / ceiling
    print(f"\nnumpy float32 2048x2048 matmul ceiling: {ceiling:.1f} GFLOP/s; HardNet "
          f"{flop_info['hardnet_flops_per_patch'] / 1e6:.1f} MFLOP/patch; patches: {patch_source}")
    print("\n| row | patches/s | pairs/s | seconds | GFLOP/s |\n|---|---|---|---|---|")
    fmt = lambda r, k, f: format(r[k], f) if k in r else ""  # noqa: E731
    for r in rows:
        print(f"| {r['row']} | {fmt(r, 'patches_per_s', ',.0f')} | {fmt(r, 'pairs_per_s', ',.0f')} | "
              f"{fmt(r, 'seconds', '.2f')} | {fmt(r, 'gflops', '.1f')} |")
    print("\n| ratio | value | target | met |\n|---|---|---|---|")
    for key, value in ratios.items():
        target = TARGETS.get(key)
        met = "" if target is None else ("yes" if value >= target else "no")
        print(f"| {key} | {value:.2f} | {'' if target is None else f'>= {target}'} | {met} |")
    if not torch_inf:
        print("note: torch is not importable; the PyTorch reference rows are skipped (pip install torch to add them)")
    if eval_info:
        diff = max(item["max_abs_diff"] for item in eval_info["naive"]["tasks"].values())
        print(f"hpatches_eval: max |diff| vs the official-style reference = {diff:.1e}")
    info["load_average_end"] = list(os.getloadavg())
    report = {"benchmark": "throughput", "quick": args.quick, "repeats": args.repeats, "patches": len(patches),
              "patch_source": patch_source, "train_steps": args.train_steps, "batch_pairs": 512,
              "matmul_ceiling_gflops": ceiling, **flop_info, "rows": rows, "ratios": ratios, "targets": TARGETS,
              "hpatches_eval": eval_info, "machine": info, "total_s": time.perf_counter() - started,
              "command": "python benchmarks/bench_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    write_json_atomic(report, args.out)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
