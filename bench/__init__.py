"""Benchmarks run by hand: ``python -m bench.<name>``; results go to bench/results/."""
