"""Fault injection: the faults a test asks for, and how broken output-file downloads are served."""
