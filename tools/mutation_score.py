"""The mutation score of helpers/, per module, from mutmut's results (run after `make
mutate`).

    .venv/bin/python tools/mutation_score.py [--survivors]

A mutant counts as killed when a test failed (or timed out) with it planted. Mutants
listed in tools/equivalent_mutants.txt behave exactly like the original code (no test
can tell them apart) and are left out of the score; the file says why for each.
`--survivors` lists the mutants still alive, to read with `.venv/bin/mutmut show
<name>`.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tools" / "equivalent_mutants.txt"
KILLED = {"killed", "timeout"}


def equivalent_mutants() -> dict[str, str]:
    """name -> why, from lines ``<mutant name>  # <why>``; a name without a why shares
    the one above."""
    names, why = {}, ""
    for line in EQUIVALENT.read_text().splitlines() if EQUIVALENT.exists() else []:
        name, _, comment = line.partition("#")
        if name.strip():  # a line that is only a comment is a heading, not a reason
            why = comment.strip() or why
            names[name.strip()] = why
    return names


def results() -> dict[str, str]:
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mutmut"), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        name.strip(): status.strip()
        for name, _, status in (line.rpartition(":") for line in out.splitlines())
        if name.strip()
    }


def main() -> None:
    status, equivalent = results(), equivalent_mutants()
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for name, state in sorted(status.items()):
        module = name.split(".")[1]
        if name in equivalent:
            counts[module]["equivalent"] += 1
            continue
        counts[module]["total"] += 1
        counts[module]["killed" if state in KILLED else state] += 1
        if state not in KILLED:
            survivors.append(f"{name}: {state}")
    print(
        f"{'module':<10} {'killed':>7} {'of':>5} {'score':>7} {'equivalent':>11}  "
        "not killed"
    )
    total = Counter()
    for module, c in sorted(counts.items()):
        total.update(c)
        rest = ", ".join(
            f"{v} {k}"
            for k, v in sorted(c.items())
            if k not in ("killed", "total", "equivalent")
        )
        score = 100 * c["killed"] / c["total"] if c["total"] else 100.0
        print(
            f"{module:<10} {c['killed']:>7} {c['total']:>5} {score:>6.1f}% "
            f"{c['equivalent']:>11}  {rest}"
        )
    if total["total"]:
        print(
            f"{'all':<10} {total['killed']:>7} {total['total']:>5} "
            f"{100 * total['killed'] / total['total']:>6.1f}% "
            f"{total['equivalent']:>11}"
        )
    if "--survivors" in sys.argv:
        print("\n".join(survivors))
    stale = [
        f"{name}: {status[name]} by a test"
        for name in equivalent
        if status.get(name) in KILLED
    ]
    stale += [
        f"{name}: not generated (renumbered or removed?)"
        for name in equivalent
        if name not in status
    ]
    # an 'equivalent' mutant that a test kills is not equivalent; a missing name is out
    # of date
    if stale:
        print(
            f"\n{len(stale)} entries of {EQUIVALENT.name} are out of date:\n"
            + "\n".join(stale)
        )


if __name__ == "__main__":
    main()
