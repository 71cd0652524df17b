"""The Generations area of the Wagtail admin."""
