"""Benchmarks of django-babysea: each script measures against a baseline run in the same run.

``python -m benchmarks`` (``make bench``) runs them all and prints one table of ratios.
"""
