"""The JSON files under benchmarks/results/ that the Performance page reads: one writer for every benchmark."""
from __future__ import annotations

import json
import os
from pathlib import Path


def write_results(path: Path, device: str, results: list[dict], **machine_extra) -> None:
    """Write ``{"machine": {device, torch, threads, cpus, **machine_extra}, "results": results}`` to ``path``."""
    import torch

    machine = {"device": device, "torch": torch.__version__, "threads": torch.get_num_threads(), "cpus": os.cpu_count(), **machine_extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine, "results": results}, indent=1) + "\n")
