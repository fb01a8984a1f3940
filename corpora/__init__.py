"""Submissions written by hand, shared by the tests and the benchmarks (neither imports the other)."""
