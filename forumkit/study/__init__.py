"""A study folder: ``forumkit.toml`` gives every command its defaults (see :mod:`forumkit.study.settings`).

``init_study`` makes one, ``load_config``/``require_config`` read one, ``default_map`` turns it into the
commands' defaults, ``study_status`` says where the study stands.
"""

from .config import NO_STUDY_HINT, StudyConfig, Value, default_map, find_config, load_config, require_config
from .init import InitResult, init_study
from .settings import FILE_NAME, SETTINGS, Feed, Setting
from .status import StudyStatus, study_status

__all__ = ["FILE_NAME", "NO_STUDY_HINT", "SETTINGS", "Feed", "InitResult", "Setting", "StudyConfig", "StudyStatus",
           "Value", "default_map", "find_config", "init_study", "load_config", "require_config", "study_status"]
