"""Users, roles, permissions, login sessions and API tokens."""
