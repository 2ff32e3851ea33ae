#!/usr/bin/env python3
"""Project awareness figures (issue 10). Not a test: prints figures.

1. Listing workflows with every detected source (the `every` fixture: npm,
   make, cargo, just, tasks.json, go, deno, poe, pdm and an errand.toml):
   `errand workflows --json`, against `errand workflows --json` in a folder
   with nothing to detect (the cost of the process and the config), median
   of N runs; cold = the first run after the files were written.
2. Matching 10 MB of compiler output: `errand errors ID` on a task that
   printed 10 MB of gcc messages (one in ten lines a diagnostic), against
   `errand show --json ID` (process, store, no matching).

Usage: python3 bench/project.py [--bin target/release/errand] [--runs 50]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, cwd, env, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/errand"))
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    env = dict(os.environ, ERRAND_HOME=os.path.join(work, "home"))
    try:
        every = os.path.join(work, "every")
        shutil.copytree(os.path.join(ROOT, "tests/fixtures/projects/every"), every)
        empty = os.path.join(work, "empty")
        os.makedirs(empty)
        open(os.path.join(empty, "errand.toml"), "w").close()
        listing = [a.bin, "workflows", "--json"]
        cold = timed(listing, every, env, 1)[0]
        warm = statistics.median(timed(listing, every, env, a.runs))
        base = statistics.median(timed(listing, empty, env, a.runs))
        print(f"== 1. errand workflows with every source ({a.runs} runs, median)")
        print(f"every source: {warm:.2f} ms (cold first run {cold:.2f} ms); nothing to detect: {base:.2f} ms")
        print(f"detection: ~{warm - base:.2f} ms warm")

        big = os.path.join(work, "big")
        os.makedirs(big)
        open(os.path.join(big, "main.c"), "w").close()
        with open(os.path.join(big, "build.out"), "w") as f:
            size = 0
            i = 0
            while size < 10_000_000:
                line = (
                    f"main.c:{i % 500 + 1}:{i % 80 + 1}: error: 'x{i}' undeclared (first use in this function)\n"
                    if i % 10 == 0
                    else f"    {i} |     return x{i} + y{i};  // a source line quoted under a message\n"
                )
                f.write(line)
                size += len(line)
                i += 1
        out = subprocess.run([a.bin, "run", "--json", "cat build.out"], cwd=big, env=env, capture_output=True, check=True)
        task = json.loads(out.stdout)["id"]
        subprocess.run([a.bin, "wait", task], env=env, check=False)
        runs = max(a.runs // 5, 5)
        match = statistics.median(timed([a.bin, "errors", task], big, env, runs))
        show = statistics.median(timed([a.bin, "show", "--json", task], big, env, runs))
        count = len(subprocess.run([a.bin, "errors", task], cwd=big, env=env, capture_output=True).stdout.splitlines())
        print(f"== 2. errand errors on 10 MB of gcc output ({runs} runs, median)")
        print(f"errors: {match:.1f} ms ({count} diagnostics); show --json: {show:.1f} ms; matching ~{match - show:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
