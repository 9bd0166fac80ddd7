"""The blocks package's API errors (messages name blocks and fields, never values)."""

from __future__ import annotations

from controlplane.core.errors import TetherError


class BlockUndecryptable(TetherError):
    """A stored ciphertext failed authentication: tampered, corrupted or copied from another block."""

    status_code = 409
    code = "block_undecryptable"
    default_message = (
        "This block's stored data could not be decrypted: it was altered, corrupted or copied from "
        "another block. Re-enter its values."
    )


class EncryptionUnavailable(TetherError):
    """The master key a workspace's data key needs is not configured on this server."""

    status_code = 503
    code = "encryption_unavailable"
    default_message = "Block encryption keys are not available on this server; ask an operator."
