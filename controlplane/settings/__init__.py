"""Settings modules: `base` (shared), `embedded` (make up), `prod`, `test`."""
