"""Lambda entry points. Each module is one function's composition root: it reads the settings,
builds the real adapters once per cold start, and hands each invocation to the use case."""
