"""Request parsers shared by the dialects."""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


class LimitedJSONParser(JSONParser):
    """JSON bodies are capped like Django caps form bodies (``DATA_UPLOAD_MAX_MEMORY_SIZE``).

    DRF reads a JSON body from the raw stream, which Django's own cap does not cover; a larger body
    answers 413 in the dialect's format instead of being read into memory. A view whose spec allows
    larger bodies sets ``max_body_bytes``.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_body_bytes", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH") if request is not None else None
            if declared and declared.isdigit() and int(declared) > limit:
                raise RequestDataTooBig("The request body is larger than the allowed size.")
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("The request body is larger than the allowed size.")
            stream = BytesIO(body)
        return super().parse(stream, media_type, parser_context)
