"""The local engines the stack runs on: the Docker-free engine, LocalStack with compose, the choice between them, and their image pins."""
