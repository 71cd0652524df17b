"""Safe, streaming downloads of output files into a Django storage.

A foundation under the services: it knows URLs, HTTP and storages, nothing of the models.

- :mod:`.policy`: which URLs may be fetched (allowed hosts, https, public addresses).
- :mod:`.fetch`: one streamed transfer with its checks (status, type, size, time, format).
- :mod:`.sniff`: the file's format from its first bytes.
- :mod:`.store`: temporary file first, then the storage, so no partial file is ever visible.
"""

from .errors import DownloadError, Reason, describe
from .fetch import Download, Limits, fetch, open_client
from .policy import SourcePolicy, Target
from .sniff import Format, sniff
from .store import StoredFile, copy_to_storage

__all__ = [
    "Download",
    "DownloadError",
    "Format",
    "Limits",
    "Reason",
    "SourcePolicy",
    "StoredFile",
    "Target",
    "copy_to_storage",
    "describe",
    "fetch",
    "open_client",
    "sniff",
]
