"""The service network: organizations, users, roles, API tokens, and who may see what."""
