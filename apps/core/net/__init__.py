"""The only way Atelier fetches a URL a user gave it: http(s) to public addresses, pinned, capped and timed.

    from apps.core.net import safe_fetch, safe_stream

    result = safe_fetch(url, max_bytes=20 * 1024 * 1024)   # FetchResult: status, headers, content, ...
    with safe_stream(url, max_bytes=LIMIT) as stream:      # FetchStream: status, headers, content_type, ...
        for chunk in stream:
            ...

Errors (apps.core.net.errors, rendered by every API dialect): UnsafeURL (400) for a refused URL,
redirect or address; FetchTooLarge (413); FetchFailed (502) when the server cannot be reached or
answers badly; FetchTimeout (504).
"""

from .errors import FetchFailed, FetchTimeout, FetchTooLarge, UnsafeURL
from .fetch import FetchResult, FetchStream, check_url, safe_fetch, safe_stream

__all__ = [
    "FetchFailed",
    "FetchResult",
    "FetchStream",
    "FetchTimeout",
    "FetchTooLarge",
    "UnsafeURL",
    "check_url",
    "safe_fetch",
    "safe_stream",
]
