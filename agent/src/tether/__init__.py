"""Tether: run Python workflows in your own network, tracked by a Tether control plane.

Importing this package must stay fast and light: every flow run pays for it.
"""

from tether._version import __version__

__all__ = ["__version__"]
