"""Operating a running stack: status, trace and logs, and the redrive of dead letters."""
