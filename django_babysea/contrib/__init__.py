"""Optional integrations with other Django packages, each installed as its own app."""
