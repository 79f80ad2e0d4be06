"""Exceptions raised by skyscript_viz.

    SkyscriptVizError                 base: pages catch this and show ``str(exc)``
     ├── DatasetRootError             the root does not exist, is unreadable or holds no SkyScript parts
     ├── IndexNotFoundError           no index built yet for this root
     ├── IndexBuildError              building the index failed (message names the part and the cause)
     ├── ImageRefusedError            an image not decoded on purpose: not a JPEG, or too many pixels
     ├── InvalidFilterError           a filter value or expression cannot be understood
     ├── RemoteError                  a remote (URL) root could not be read; the message names the URL
     │    ├── RemoteUnreachableError  the server cannot be reached (refused, no route, unknown name)
     │    ├── RemoteTimeoutError      the server did not answer in time
     │    ├── RemoteNotFoundError     HTTP 404 / no such key
     │    ├── RemoteForbiddenError    HTTP 403 / access denied
     │    ├── RemoteInterruptedError  the connection dropped in the middle of a response
     │    └── RemoteChangedError      a remote file differs from what was cached
     ├── ReviewStoreError             the verdict database cannot be opened, read or written
     │    ├── NotOwnerError           a saved view belongs to someone else
     │    └── ViewExistsError         saving would replace a view: confirm with replace=True
     ├── SettingsError                an environment variable holds a value that cannot be used
     ├── UnsafePickleError            a meta pickle tried to load something other than plain data
     └── ZipFormatError               a zip (or one member) is damaged, truncated, not a zip or over a limit

Messages name the bad value and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "DatasetRootError",
    "ImageRefusedError",
    "IndexBuildError",
    "IndexNotFoundError",
    "InvalidFilterError",
    "NotOwnerError",
    "RemoteChangedError",
    "RemoteError",
    "RemoteForbiddenError",
    "RemoteInterruptedError",
    "RemoteNotFoundError",
    "RemoteTimeoutError",
    "RemoteUnreachableError",
    "ReviewStoreError",
    "SettingsError",
    "SkyscriptVizError",
    "UnsafePickleError",
    "ViewExistsError",
    "ZipFormatError",
]


class SkyscriptVizError(Exception):
    """Base of every error this library raises on purpose."""


class DatasetRootError(SkyscriptVizError):
    """Raised when a dataset root does not exist, cannot be read, or holds no SkyScript parts."""


class IndexNotFoundError(SkyscriptVizError):
    """Raised when a root has no index yet; the message gives the command that builds it."""


class IndexBuildError(SkyscriptVizError):
    """Raised when building the index fails for a reason other than bad records (which are reported)."""


class InvalidFilterError(SkyscriptVizError, ValueError):
    """Raised when a filter value (year range, bbox, tag expression…) cannot be understood."""


class UnsafePickleError(SkyscriptVizError):
    """Raised when a pickle references a global (class, function) or yields a non-plain type."""


class SettingsError(SkyscriptVizError, ValueError):
    """Raised when an environment variable (see ``settings.py``) holds a value that cannot be used."""


class ZipFormatError(SkyscriptVizError):
    """Raised when a zip or one of its members is damaged, truncated, not a zip or over a size limit."""


class ImageRefusedError(SkyscriptVizError):
    """Raised for an image not decoded on purpose (not a JPEG, too many pixels); the message says which."""


class ReviewStoreError(SkyscriptVizError):
    """Raised when the verdict database cannot be opened, read or written (read-only, corrupt, unreachable)."""


class NotOwnerError(ReviewStoreError):
    """Raised when a visitor tries to replace a saved view that someone else owns."""


class ViewExistsError(ReviewStoreError):
    """Raised when saving a view would replace one of the same name; pass ``replace=True`` to confirm."""


class RemoteError(SkyscriptVizError):
    """Raised when a remote root could not be read; the message names the URL and the fix."""


class RemoteUnreachableError(RemoteError):
    """The server cannot be reached (refused, no route, name not resolved)."""


class RemoteTimeoutError(RemoteError):
    """The server did not answer within the timeout."""


class RemoteNotFoundError(RemoteError):
    """HTTP 404 / no such key."""


class RemoteForbiddenError(RemoteError):
    """HTTP 403 / access denied."""


class RemoteInterruptedError(RemoteError):
    """The connection dropped in the middle of a response."""


class RemoteChangedError(RemoteError):
    """Raised when a remote file differs from what was cached (size, ETag, or bytes at a known place)."""
