"""Request parsers shared by the dialects."""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
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


class CappedUploadHandler(FileUploadHandler):
    """First in a request's upload handlers: refuses a multipart request whose declared length
    cannot fit before reading anything, and stops it as soon as its file data pass ``limit`` bytes.

    ``refuse(limit)`` builds the error to raise (each endpoint words its own 413); ``form_allowance``
    is the room left for the form's other fields and the multipart framing.
    """

    def __init__(self, request, limit: int, *, refuse, form_allowance: int = 256 * 1024):
        super().__init__(request)
        self.limit = limit
        self.refuse = refuse
        self.form_allowance = form_allowance
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        if content_length and content_length > self.limit + self.form_allowance:
            raise self.refuse(self.limit)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise self.refuse(self.limit)
        return raw_data

    def file_complete(self, file_size):
        return None
