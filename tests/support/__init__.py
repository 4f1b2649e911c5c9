"""What the tests and bench/ share: random refs, the API client, polling with a deadline, counts."""
