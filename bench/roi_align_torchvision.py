#!/usr/bin/env python3
"""torchvision's C++ roi_align on inputs written by `pisa bench roialign` or the RoIAlign tests.

A case folder holds meta.json ({"features": [B, C, H, W], "rois": [B, R, 4], "output_size": P,
"spatial_scale": s, "sampling_ratio": g, "aligned": true}), features.f32 and rois.f32 (raw little-endian
float32, x1y1x2y2 per image), and optionally upstream.f32 ([B, R, C, P, P]).

  roi_align_torchvision.py pool CASE      writes torchvision_out.f32 ([B, R, C, P, P]) and, with upstream.f32,
                                          torchvision_grad.f32: d(sum(out * upstream)) / d(features), [B, C, H, W]
  roi_align_torchvision.py time CASE [--repeats N] [--threads T] [--clock wall|cpu]
                                          prints {"times_ms": [...]} for the forward pass alone; cpu: the calling
                                          thread's CPU time (meaningful with 1 thread on a shared machine)

Debian: apt-get install python3-torchvision python3-numpy (no PyPI).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torchvision.ops import roi_align


def load(case):
    with open(os.path.join(case, "meta.json")) as f:
        meta = json.load(f)
    features = torch.from_numpy(np.fromfile(os.path.join(case, "features.f32"), dtype="<f4").reshape(meta["features"]))
    rois = torch.from_numpy(np.fromfile(os.path.join(case, "rois.f32"), dtype="<f4").reshape(meta["rois"]))
    b, r = rois.shape[0], rois.shape[1]
    image = torch.arange(b, dtype=torch.float32).repeat_interleave(r).unsqueeze(1)
    return meta, features, torch.cat([image, rois.reshape(b * r, 4)], 1)  # [K, 5]: image index, x1y1x2y2


def pool(meta, features, rois):
    p = meta["output_size"]
    return roi_align(features, rois, output_size=(p, p), spatial_scale=meta["spatial_scale"],
                     sampling_ratio=meta["sampling_ratio"], aligned=meta["aligned"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["pool", "time"])
    parser.add_argument("case")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    meta, features, rois = load(args.case)
    b, r = meta["rois"][0], meta["rois"][1]
    if args.mode == "pool":
        upstream_file = os.path.join(args.case, "upstream.f32")
        features.requires_grad_(os.path.exists(upstream_file))
        out = pool(meta, features, rois)
        out.detach().numpy().astype("<f4").tofile(os.path.join(args.case, "torchvision_out.f32"))
        if features.requires_grad:
            upstream = torch.from_numpy(np.fromfile(upstream_file, dtype="<f4").reshape(out.shape))
            (out * upstream).sum().backward()
            features.grad.numpy().astype("<f4").tofile(os.path.join(args.case, "torchvision_grad.f32"))
        return 0
    with torch.no_grad():
        pool(meta, features, rois)  # warm-up
        clock = time.thread_time if args.clock == "cpu" else time.perf_counter
        times = []
        for _ in range(args.repeats):
            start = clock()
            pool(meta, features, rois)
            times.append((clock() - start) * 1000)
    print(json.dumps({"times_ms": times, "threads": torch.get_num_threads(), "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
