"""Performance figures: `python -m benchmarks.<name>`; each prints a ratio against a reference
measured in the same run."""
