"""The API's contracts as documents: OpenAPI and AsyncAPI."""
