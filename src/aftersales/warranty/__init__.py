"""三包 (three guarantees) warranty: the policy as data and a pure engine that evaluates it.

``dates``, ``policy`` and ``engine`` import nothing but the standard library and each other: the
engine must stay callable from tests, commands and the API alike without a configured Django
project. The Django side (models, services, api, admin) depends on them, never the other way round.
"""
