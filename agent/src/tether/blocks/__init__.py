"""Blocks: typed configuration and credentials, stored encrypted by the control plane.

```python
from tether.blocks import Secret
Secret(value="s3cr3t").save("db-password", overwrite=True)
password = Secret.load("db-password").get()
```

Custom types subclass `Block` (secret fields typed `SecretStr`/`SecretDict`) and are registered
with `tether block register module:Class`. See docs/blocks.md.
"""

from __future__ import annotations

from tether.blocks.core import Block, BlockAlreadyExists, BlockError, BlockNotFound
from tether.blocks.fields import SecretDict, SecretStr
from tether.blocks.standard import (
    JSON,
    DockerRegistryCredentials,
    GitCredentials,
    KubernetesClusterConfig,
    S3Credentials,
    Secret,
    SlackWebhook,
    SMTPServer,
    Webhook,
)

__all__ = [
    "JSON",
    "Block",
    "BlockAlreadyExists",
    "BlockError",
    "BlockNotFound",
    "DockerRegistryCredentials",
    "GitCredentials",
    "KubernetesClusterConfig",
    "S3Credentials",
    "SMTPServer",
    "Secret",
    "SecretDict",
    "SecretStr",
    "SlackWebhook",
    "Webhook",
]
