"""What the tests and bench/ share, one module per job (the README's "What tests/support holds");
no test file imports from another."""
