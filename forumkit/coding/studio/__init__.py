"""Label Studio: run a server, push samples as tasks, pull annotations back.

The names below are loaded on first use: label-studio-sdk takes half a second
to import, and `forumkit studio up` does not need it. The push and pull
functions live in their modules: ``from forumkit.coding.studio.push import push``.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Studio": ".client", "ServerInfo": ".server", "Login": ".server", "StudioError": ".server",
    "PushResult": ".push", "PullResult": ".pull",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name], __name__), name)
