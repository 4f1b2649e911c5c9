"""The HTTP edge of the appointments function: `front_doors` (the HTTP and REST APIs' resolvers),
`routes`, `checks` (before parsing), `idempotency` (the Idempotency-Key), `errors` (the one place
where errors become answers) and `schemas` (the pydantic models of requests and answers)."""
