"""Medical appointments backend: domain, use cases, adapters and Lambda entry points."""
