"""soniox — Python SDK for the Soniox speech-to-text API.

The SDK itself lands issue by issue; what ships today is the local Soniox-compatible emulator
(:mod:`soniox.emulator`, extra ``soniox-transport[emulator]``) and the ``soniox`` command.
"""

from ._version import __version__

__all__ = ["__version__"]
