"""One ResNet-18 on Fashion-MNIST, outside the workflow: which stem and recipe reach the
field's level on a CPU (issue #26). Kept as it was run on 2026-12-05; its logs are in
bench/results/fashion_stems/ (one line per epoch, test accuracy every 5 epochs).

    python bench/fashion_stem_experiment.py STEM LABELS LR AUG MAX_EPOCHS

STEM: imagenet (7x7 s2 + max-pool), medium (3x3 s1 + max-pool: alvae's small_pool) or
small (3x3 s1, no max-pool); LABELS random labels from a seeded pool of 10,000 of the
60,000 training images; SGD LR, momentum 0.9, weight decay 5e-4, batch 64, cosine over
MAX_EPOCHS; AUG 1: crop (4 px padding) + flip. Stops at 99 % train accuracy (DISTIL's
rule). One thread; the full official test split.
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet18

stem, n_lab, lr, aug, maxep = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5])
torch.set_num_threads(1); torch.manual_seed(0)
def idx(p):
    with gzip.open(p) if p.endswith(".gz") else open(p, "rb") as f: d = f.read()
    nd = d[3]; dims = [int.from_bytes(d[4+4*i:8+4*i], "big") for i in range(nd)]
    return np.frombuffer(d, np.uint8, offset=4+4*nd).reshape(dims)
import glob

root = "/usr/share/datasets/fashion-mnist"
f = lambda k: sorted(glob.glob(f"{root}/*{k}*"))[0]
Xtr, ytr = idx(f("train-images")), idx(f("train-labels")); Xte, yte = idx(f("t10k-images")), idx(f("t10k-labels"))
rng = np.random.default_rng(0); pool = rng.choice(60000, 10000, replace=False); lab = rng.choice(pool, n_lab, replace=False)
X = torch.from_numpy(Xtr[lab]).unsqueeze(1); Y = torch.from_numpy(ytr[lab].astype(np.int64))
XT = torch.from_numpy(Xte).unsqueeze(1); YT = torch.from_numpy(yte.astype(np.int64))
net = resnet18(num_classes=10)
net.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False) if stem != "imagenet" else nn.Conv2d(1, 64, 7, 2, 3, bias=False)
if stem == "small": net.maxpool = nn.Identity()
net = net.to(memory_format=torch.channels_last)
prep = lambda x: ((x.float() / 255 - 0.5) / 0.5).contiguous(memory_format=torch.channels_last)
opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, maxep)
def augment(x):
    n = len(x); p = F.pad(x, (4,4,4,4)); oy = torch.randint(0, 9, (n,)); ox = torch.randint(0, 9, (n,))
    out = torch.stack([p[i, :, oy[i]:oy[i]+28, ox[i]:ox[i]+28] for i in range(n)])
    flip = torch.rand(n) < 0.5; out[flip] = out[flip].flip(-1); return out
def test():
    net.eval(); c = 0
    with torch.no_grad():
        for s in range(0, 10000, 1000): c += (net(prep(XT[s:s+1000])).argmax(1) == YT[s:s+1000]).sum().item()
    net.train(); return c / 10000
t0 = time.time(); bs = 64
for ep in range(1, maxep + 1):
    perm = torch.randperm(n_lab); correct = 0
    for s in range(0, n_lab, bs):
        i = perm[s:s+bs]; x = X[i]; x = augment(x) if aug else x
        out = net(prep(x)); loss = F.cross_entropy(out, Y[i])
        opt.zero_grad(); loss.backward(); opt.step(); correct += (out.argmax(1) == Y[i]).sum().item()
    sched.step(); acc = correct / n_lab
    msg = f"{stem} n={n_lab} lr={lr} aug={aug} ep {ep} train_acc {acc:.4f} t {time.time()-t0:.0f}s"
    if ep % 5 == 0 or acc >= 0.99: msg += f" test {test():.4f}"
    print(msg, flush=True)
    if acc >= 0.99: break
