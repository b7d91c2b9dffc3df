"""Benchmarks of the local engine, run by hand rather than by pytest."""
