"""API keys for users and service accounts, run tokens, the DRF authentication class."""
