"""Seconds per training step with glibc's default malloc and with the Makefile's.

    python benchmarks/allocator.py

A training step frees and re-allocates the same large activation buffers every time.
glibc serves buffers above its mmap threshold straight from the kernel and gives them
back when they are freed, so every step pays again for fresh zeroed pages (system time,
not arithmetic). The Makefile exports MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_
so that freed buffers stay in the process for the next step. This script times the same
steps in a child process under each setting and prints the minimum of 5 steps (after a
warm-up step). Linux with glibc only; elsewhere the variables are ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys

SETTING = {
    "MALLOC_MMAP_THRESHOLD_": "17179869184",
    "MALLOC_TRIM_THRESHOLD_": "17179869184",
}
WORKLOADS = ("vgg11-narrow@32", "resnet18@32", "vgg11-narrow@224")


def child(workload: str) -> None:
    """Time 6 Adam steps of ``workload`` on a batch of 128 and print the fastest of the
    last 5, in seconds."""
    import time

    import torch
    from gpu_recipes_learn import NARROW_VGG11  # benchmarks/ is first on sys.path
    from torch import nn

    import helpers as hp

    torch.manual_seed(0)
    name, size = workload.split("@")
    if name == "resnet18":
        net = hp.resnet18()
    else:
        net = hp.vgg(NARROW_VGG11, image_size=int(size))
    optimizer = torch.optim.Adam(net.parameters())
    X = torch.rand(128, 1, int(size), int(size))
    y = torch.randint(0, 10, (128,))
    seconds = []
    for _ in range(6):
        start = time.perf_counter()
        loss = nn.functional.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    print(min(seconds[1:]))


def main() -> None:
    """Each workload under the default malloc and under SETTING, in child processes."""
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    base = {k: v for k, v in os.environ.items() if k not in SETTING}
    print(f"{'workload':<18} {'default malloc':>15} {'Makefile setting':>17}")
    for workload in WORKLOADS:
        times = []
        for env in (base, {**base, **SETTING}):
            out = subprocess.run(
                [sys.executable, __file__, "--child", workload],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            times.append(float(out))
        print(f"{workload:<18} {times[0]:>13.3f} s {times[1]:>15.3f} s")


if __name__ == "__main__":
    main()
