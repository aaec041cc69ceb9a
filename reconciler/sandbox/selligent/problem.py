"""The one exception the Selligent sandbox's routes raise to answer with the error envelope."""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.selligent import inferred


class ApiProblem(Exception):
    """An answer other than success: HTTP status, error_code, description and result_code."""

    def __init__(
        self, status: int, error_code: str, description: str, result_code: str | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error_code = error_code
        self.description = description
        self.result_code = result_code or result_code_for(status)

    @classmethod
    def invalid(cls, description: str, error_code: str = inferred.VALIDATION_CODE) -> ApiProblem:
        return cls(inferred.VALIDATION_STATUS, error_code, description, inferred.VALIDATION_RESULT)

    @classmethod
    def not_found(cls, description: str) -> ApiProblem:
        return cls(inferred.NOT_FOUND_STATUS, "ERR", description, inferred.NOT_FOUND_RESULT)

    def body(self) -> dict[str, Any]:
        return envelope(self.error_code, self.description, self.result_code)


class SegmentNotFound(ApiProblem):
    """The segment a call names does not exist: 404, or 400 on a tenant answering so (whether a
    missing segment is a 404 or a 400 is undocumented, §8; the bodies are in `inferred.py`)."""

    def __init__(self, name: str, status: int = inferred.NOT_FOUND_STATUS) -> None:
        description = inferred.SEGMENT_NOT_FOUND_DESCRIPTION.format(name=name)
        if status == 400:
            super().__init__(400, inferred.SEGMENT_NOT_FOUND_400_CODE, description,
                             inferred.VALIDATION_RESULT)
        else:
            super().__init__(status, "ERR", description, inferred.NOT_FOUND_RESULT)
        self.name = name

    def answered_with(self, status: int) -> SegmentNotFound:
        return self if status == self.status else SegmentNotFound(self.name, status)


def result_code_for(status: int) -> str:
    if status == 404:
        return "NotFound"
    if status in (502, 503, 504, 429):
        return "ServiceUnavailable"
    if status >= 500:
        return "InternalServerError"
    if status == 400:
        return "ValidationFailed"
    return "Failed"


def envelope(error_code: str, description: str, result_code: str) -> dict[str, Any]:
    """The documented error envelope (§3.1): errors[{error_code, description}], message."""
    return {
        "errors": [{"error_code": error_code, "description": description}],
        "result_code": result_code,
        "message": "Request Failed",
    }
