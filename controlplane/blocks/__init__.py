"""Block types and documents, envelope encryption, key rotation."""
