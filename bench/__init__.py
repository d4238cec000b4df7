"""The benchmark suite of issue #6: ``python -m bench.run`` (``make bench``) writes
bench/results.md and bench/results.json. Every target is a ratio against a reference measured
in the same run, because the machines it runs on are shared and noisy."""
