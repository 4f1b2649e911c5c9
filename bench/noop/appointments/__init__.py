"""The no-op chain for the benchmark's baseline (see bench/noop/README.md)."""
