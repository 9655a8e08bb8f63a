#!/usr/bin/python3
"""PyTorch reference for the dnas training benchmark on Fashion-MNIST.

Defines resnet8_fmnist and tcn_fmnist exactly as configs/models/*.yaml
(convs without bias, BN after every conv, FC with bias), loads
Fashion-MNIST from the packaged idx .gz files with gzip + numpy, normalizes
with the training-set mean / std, trains with Adam and prints one line per
epoch:

    epoch=E train_seconds=S loss=L test_acc=A samples_per_s=R

Every other line starts with '#'. Meant for Debian's python3-torch (1.13):
    /usr/bin/python3 bench/torch_train.py --model tcn_fmnist --epochs 3 --threads 1
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"


# ---- data ------------------------------------------------------------------

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08:  # unsigned byte data
        raise ValueError(f"{path}: not an idx ubyte file (magic {magic:#x})")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims}, got {data.size} values")
    return data.reshape(dims)


def load_fmnist(data_dir):
    def load(prefix):
        x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
        return x.astype(np.float32) / 255.0, y.astype(np.int64)

    xtr, ytr = load("train")
    xte, yte = load("t10k")
    mean, std = float(xtr.mean()), float(xtr.std())
    xtr = (xtr - mean) / std
    xte = (xte - mean) / std
    # (N, 1, 28, 28)
    return (torch.from_numpy(xtr[:, None]), torch.from_numpy(ytr),
            torch.from_numpy(xte[:, None]), torch.from_numpy(yte), mean, std)


# ---- models (must match configs/models/*.yaml) -------------------------------

class ResBlock(nn.Module):
    """[3x3 conv s, BN, ReLU, 3x3 conv, BN] + shortcut, then ReLU.
    Shortcut: identity, or 1x1 stride-s conv + BN when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.short is None else self.short(x)
        return F.relu(y + s)


class ResNet8FMNIST(nn.Module):
    """configs/models/resnet8_fmnist.yaml: 1x28x28 -> 16x28x28 -> 32x14x14
    -> 64x7x7 -> global avg-pool -> FC 10."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.s1 = ResBlock(16, 16, 1)
        self.s2 = ResBlock(16, 32, 2)
        self.s3 = ResBlock(32, 64, 2)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.s3(self.s2(self.s1(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class TCNFMNIST(nn.Module):
    """configs/models/tcn_fmnist.yaml: 28 channels x 28 steps; conv1d k9
    28->32, 32->32, 32->64 stride 2, 64->64 (TF "same" padding), each + BN
    + ReLU; global avg-pool; FC 64->10."""

    K = 9

    def __init__(self, classes=10):
        super().__init__()
        spec = [(28, 32, 1), (32, 32, 1), (32, 64, 2), (64, 64, 1)]
        self.convs = nn.ModuleList(nn.Conv1d(i, o, self.K, s, bias=False) for i, o, s in spec)
        self.bns = nn.ModuleList(nn.BatchNorm1d(o) for _, o, _ in spec)
        self.strides = [s for _, _, s in spec]
        self.fc = nn.Linear(64, classes)

    @staticmethod
    def same_pad(t, k, s):
        # TF "same": out = ceil(t / s); total pad; the odd one after.
        out = -(-t // s)
        total = max((out - 1) * s + k - t, 0)
        return total // 2, total - total // 2

    def forward(self, x):
        # x: (N, 28 channels, 28 steps)
        for conv, bn, s in zip(self.convs, self.bns, self.strides):
            x = F.pad(x, self.same_pad(x.shape[-1], self.K, s))
            x = F.relu(bn(conv(x)))
        x = x.mean(dim=-1)
        return self.fc(x)


MODELS = {"resnet8_fmnist": ResNet8FMNIST, "tcn_fmnist": TCNFMNIST}
EXPECTED = {"resnet8_fmnist": (77072, 9345920), "tcn_fmnist": (73216, 1258624)}


def to_input(model_name, x):
    """(N, 1, 28, 28) images -> model input. tcn_fmnist: image rows are time
    steps, image columns are channels: (N, 28 columns, 28 rows)."""
    if model_name == "tcn_fmnist":
        return x.squeeze(1).transpose(1, 2).contiguous()
    return x


def he_uniform_init(model):
    """Like train_net_init: conv/linear He-uniform (kaiming, fan_in, ReLU
    gain), bias 0; BN gamma 1, beta 0 (PyTorch's BN default)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def count(model, model_name):
    """weights (conv/linear, no bias), biases, BN gamma+beta, and MACs =
    weights x output pixels (measured with forward hooks on one sample)."""
    weights = biases = bn = 0
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            weights += m.weight.numel()
            biases += m.bias.numel() if m.bias is not None else 0
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            bn += m.weight.numel() + m.bias.numel()
    macs = [0]

    def hook(m, inp, out):
        pixels = out[0, 0].numel()  # output positions of one sample, one channel
        macs[0] += m.weight.numel() * pixels

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(to_input(model_name, torch.zeros(1, 1, 28, 28)))
    model.train(was_training)
    for h in handles:
        h.remove()
    total = sum(p.numel() for p in model.parameters())
    return weights, biases, bn, macs[0], total


# ---- training ----------------------------------------------------------------

def evaluate(model, model_name, x, y, batch):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            out = model(to_input(model_name, x[i:i + 1000]))
            correct += (out.argmax(1) == y[i:i + 1000]).sum().item()
    model.train()
    return correct / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0,
                    help="Adam (L2) weight decay; default 0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-batches", type=int, default=0,
                    help="stop each epoch after this many batches (0 = all)")
    ap.add_argument("--init", choices=["he", "torch"], default="he",
                    help="he: He-uniform like dnas train_net_init (default); "
                         "torch: PyTorch's default init")
    ap.add_argument("--data", default=DATA_DIR)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    xtr, ytr, xte, yte, mean, std = load_fmnist(args.data)
    model = MODELS[args.model]()
    if args.init == "he":
        he_uniform_init(model)

    weights, biases, bn, macs, total = count(model, args.model)
    print(f"# model={args.model} weights={weights} biases={biases} bn={bn} "
          f"params={total} macs={macs}")
    want_w, want_m = EXPECTED[args.model]
    if (weights, macs) != (want_w, want_m):
        print(f"# ERROR: expected weights={want_w} macs={want_m}", file=sys.stderr)
        return 1
    print(f"# torch={torch.__version__} threads={torch.get_num_threads()} batch={args.batch} "
          f"lr={args.lr} weight_decay={args.weight_decay} seed={args.seed} init={args.init} "
          f"train={xtr.shape[0]} test={xte.shape[0]} mean={mean:.6f} std={std:.6f}")
    sys.stdout.flush()

    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    n = xtr.shape[0]
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.from_numpy(rng.permutation(n))
        nbatches = (n + args.batch - 1) // args.batch
        if args.max_batches > 0:
            nbatches = min(nbatches, args.max_batches)
        loss_sum = 0.0
        samples = 0
        t0 = time.perf_counter()
        for b in range(nbatches):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            xb, yb = to_input(args.model, xtr[idx]), ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.shape[0]
            samples += idx.shape[0]
        seconds = time.perf_counter() - t0
        if not np.isfinite(loss_sum):
            print(f"# ERROR: non-finite loss in epoch {epoch}", file=sys.stderr)
            return 1
        acc = evaluate(model, args.model, xte, yte, args.batch)
        print(f"epoch={epoch} train_seconds={seconds:.3f} loss={loss_sum / samples:.6f} "
              f"test_acc={acc:.4f} samples_per_s={samples / seconds:.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
