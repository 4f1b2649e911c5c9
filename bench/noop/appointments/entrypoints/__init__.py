"""No-op handlers: each passes the message on and does nothing else."""
