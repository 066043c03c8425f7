"""Shared kernel: error types, phone numbers, base models. Depends on nothing else in the project."""
