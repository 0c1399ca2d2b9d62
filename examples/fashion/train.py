#!/usr/bin/python3
"""Trains the Fashion-MNIST example models of gosc and exports them to ONNX.

    /usr/bin/python3 examples/fashion/train.py [--arch resnet|mobilenet|vgg|all]
                                               [--epochs N] [--out DIR]

Needs Debian's python3-torch and dataset-fashion-mnist (nothing is downloaded).
For each architecture it writes, in DIR (default: this directory):
  <arch>.onnx         the trained model, batch 1, input 'image' f32[1,1,28,28]
                      normalised as (x/255 - 0.2860) / 0.3530, output 'logits' [1,10]
  <arch>.pred.npy     torch's top-1 prediction (uint8) for each of the 10,000 test images
  <arch>.json         test accuracy, epochs, seed, training time, parameter count
gosc itself never needs torch: the tests check gosc against these files.
Seeds are fixed (torch, numpy) and torch runs single-process deterministic
algorithms on the CPU, so a re-run on the same machine gives the same model.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    p = "train" if split == "train" else "t10k"
    x = read_idx(f"{DATA}/{p}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{DATA}/{p}-labels-idx1-ubyte.gz").astype(np.int64)
    x = (x - MEAN) / STD
    return torch.from_numpy(x[:, None]), torch.from_numpy(y)


def conv_bn(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


# ---- ResNet-style: basic blocks, 3 stages ------------------------------
class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, stride)
        self.c2 = conv_bn(cout, cout, 3, 1, act=None)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = conv_bn(cin, cout, 1, stride, act=None)

    def forward(self, x):
        s = x if self.short is None else self.short(x)
        return F.relu(self.c2(self.c1(x)) + s)


class ResNet(nn.Module):
    def __init__(self, widths=(16, 32, 64), blocks=(2, 2, 2)):
        super().__init__()
        self.stem = conv_bn(1, widths[0])
        layers, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(Basic(cin, w, 2 if (b == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, 10)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---- MobileNetV2-style: inverted residuals, hard-swish, squeeze-excite --
class SE(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))


class Inverted(nn.Module):
    def __init__(self, cin, cout, expand, stride, se, act):
        super().__init__()
        mid = cin * expand
        self.expand = conv_bn(cin, mid, 1, act=act) if expand != 1 else None
        self.dw = conv_bn(mid, mid, 3, stride, groups=mid, act=act)
        self.se = SE(mid) if se else None
        self.project = conv_bn(mid, cout, 1, act=None)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = x if self.expand is None else self.expand(x)
        y = self.dw(y)
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class MobileNet(nn.Module):
    # (cout, expand, stride, squeeze-excite, activation)
    CFG = [(16, 1, 1, False, nn.ReLU), (24, 4, 2, False, nn.ReLU), (24, 4, 1, False, nn.ReLU),
           (40, 4, 2, True, nn.Hardswish), (40, 4, 1, True, nn.Hardswish),
           (48, 4, 1, True, nn.Hardswish), (48, 4, 1, True, nn.Hardswish)]

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 16, act=nn.Hardswish)
        blocks, cin = [], 16
        for cout, e, s, se, act in self.CFG:
            blocks.append(Inverted(cin, cout, e, s, se, act))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = conv_bn(cin, 192, 1, act=nn.Hardswish)
        self.fc = nn.Linear(192, 10)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---- VGG-style: plain 3x3 stacks with max pooling ---------------------
class VGG(nn.Module):
    def __init__(self, widths=(32, 64, 128)):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            layers += [conv_bn(cin, w), conv_bn(w, w), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(cin * 3 * 3, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.3, self.training))


ARCHS = {"resnet": ResNet, "mobilenet": MobileNet, "vgg": VGG}
EPOCHS = {"resnet": 10, "mobilenet": 12, "vgg": 10}


def augment(x, gen):
    """Random horizontal flip and random 28x28 crop of the image padded by 2."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = F.pad(x, (2, 2, 2, 2), value=-MEAN / STD)
    dx, dy = torch.randint(0, 5, (2,), generator=gen).tolist()
    return pad[:, :, dy:dy + 28, dx:dx + 28]


def evaluate(model, x, y):
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, x.shape[0], 500):
            preds.append(model(x[i:i + 500]).argmax(1))
    p = torch.cat(preds)
    return p, (p == y).float().mean().item()


def train(arch, epochs, out, seed=1):
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xtr, ytr = load("train")
    xte, yte = load("test")
    model = ARCHS[arch]()
    nparam = sum(p.numel() for p in model.parameters())
    bs = 128
    steps = (xtr.shape[0] + bs - 1) // bs
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=epochs,
                                                steps_per_epoch=steps)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        tot = 0.0
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            xb = augment(xtr[idx], gen)
            loss = F.cross_entropy(model(xb), ytr[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        _, acc = evaluate(model, xte, yte)
        print(f"{arch} epoch {ep + 1}/{epochs} loss {tot / steps:.4f} test top-1 {acc * 100:.2f}% "
              f"({time.time() - t0:.0f} s)", flush=True)
    seconds = time.time() - t0
    pred, acc = evaluate(model, xte, yte)
    model.eval()
    onnx_path = os.path.join(out, f"{arch}.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), onnx_path, opset_version=13,
                      input_names=["image"], output_names=["logits"], do_constant_folding=True)
    np.save(os.path.join(out, f"{arch}.pred.npy"), pred.numpy().astype(np.uint8))
    info = {"arch": arch, "test_top1": round(acc * 100, 2), "correct": int((pred == yte).sum()),
            "test_images": int(yte.shape[0]), "epochs": epochs, "seed": seed,
            "train_seconds": round(seconds), "threads": torch.get_num_threads(),
            "parameters": nparam, "torch": torch.__version__,
            "normalisation": {"mean": MEAN, "std": STD}}
    with open(os.path.join(out, f"{arch}.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(f"{arch}: test top-1 {acc * 100:.2f}% after {epochs} epochs in {seconds:.0f} s "
          f"({nparam} parameters) -> {onnx_path}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="all", choices=["all"] + list(ARCHS))
    ap.add_argument("--epochs", type=int, default=0, help="0: the per-architecture default")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    for arch in (["resnet", "vgg", "mobilenet"] if a.arch == "all" else [a.arch]):
        train(arch, a.epochs or EPOCHS[arch], a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
