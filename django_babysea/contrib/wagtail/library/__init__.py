"""Outputs into the image library, deduplicated and linked to their generation."""
