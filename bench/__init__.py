"""Benchmarks: ``make bench`` (``python -m bench [name ...]``). Each ``bench_*.py`` module has a
``run() -> list[Figure]``; every figure stands beside its baseline measured in the same run.
"""
