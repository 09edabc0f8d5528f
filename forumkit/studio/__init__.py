"""Label Studio: run a server, push samples as tasks, pull annotations back."""

from .client import Studio
from .pull import PullResult, pull
from .push import PushResult, push
from .server import ServerInfo, StudioError

__all__ = ["Studio", "ServerInfo", "StudioError", "push", "PushResult", "pull", "PullResult"]
