"""forumkit: mine, code and chart developer forums for qualitative and mixed-methods studies.

Heavy optional parts (topic models, Label Studio) are imported lazily by their
own modules, so ``import forumkit`` stays fast.
"""

__version__ = "0.1.0"
