"""Patrol's benchmarks. `make bench` (or `python -m bench`) runs them all; each module also runs
alone (`python -m bench.classify_bench`). Every figure is printed beside a baseline measured in the
same run on the same machine, so noise from the machine affects both sides alike."""
