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
