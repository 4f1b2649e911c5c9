"""Real implementations of the ports, one module per AWS service or database."""
