"""The plain design, for the benchmark: see bench/plain/README.md."""
