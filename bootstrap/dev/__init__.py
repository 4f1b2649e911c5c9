"""The developer's loop: `make up`'s steps and `make watch`."""
