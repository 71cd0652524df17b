"""Outputs into the image library, deduplicated and linked to their generation.

* :func:`submit_to_library`: submit a generation whose outputs go into a collection.
* :func:`import_output`, :func:`import_generation`: import stored outputs (run by the
  ``outputs_stored`` receiver, callable directly).
* :func:`generation_for_image`: the generation an image came from.
"""

from __future__ import annotations

from .importing import IMPORT_ACTION, import_generation, import_output
from .items import NotImportableError, library_model_for, media_library_installed
from .lookup import generation_for_image, library_item_for
from .submitting import GENERATE_ACTION, submit_to_library

__all__ = [
    "GENERATE_ACTION",
    "IMPORT_ACTION",
    "NotImportableError",
    "generation_for_image",
    "import_generation",
    "import_output",
    "library_item_for",
    "library_model_for",
    "media_library_installed",
    "submit_to_library",
]
