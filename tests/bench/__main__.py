"""Runs every tests/bench/bench_*.py module's run() and prints its lines."""

import importlib
import pkgutil
import sys
import time

import tests.bench as package


def main() -> int:
    selected = set(sys.argv[1:])
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        name = module_info.name
        if not name.startswith("bench_") or (selected and name.removeprefix("bench_") not in selected):
            continue
        started = time.perf_counter()
        print(f"== {name.removeprefix('bench_')}", flush=True)
        for line in importlib.import_module(f"tests.bench.{name}").run():
            print(f"   {line}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
