"""三包 (three guarantees) warranty: the policy as data and a pure engine that evaluates it.

Nothing in this package may import Django except ``models.py``: the engine must stay callable
from tests, management commands and the API alike without a configured project.
"""
