"""The NotificationChannel kind: where warnings go (a webhook, or email over SMTP)."""
from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reconciler.manifests.models.common import StrictModel
from reconciler.manifests.values import Credential

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
EmailAddress = Annotated[str, Field(pattern=EMAIL_PATTERN, examples=["crm-team@example.com"])]


class SmtpSecurity(enum.StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    SSL = "ssl"  # TLS from the first byte (port 465)
    NONE = "none"  # no encryption: only for a relay on the same host or network


class WebhookChannel(StrictModel):
    """A generic webhook: a Slack-compatible JSON body (`text`) with structured fields."""

    type: Literal["webhook"]
    url: Credential = Field(
        description="${env:NAME} holding the URL (a Slack webhook URL is a secret)."
    )
    timeout_seconds: float = Field(default=10, gt=0, le=120)


class EmailChannel(StrictModel):
    """Email over SMTP (one message per warning, to every recipient)."""

    type: Literal["email"]
    host: str = Field(min_length=1, description="The SMTP server.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 587 (starttls), 465 (ssl), 25."
    )
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = Field(default=None, min_length=1)
    password: Credential | None = None
    from_: EmailAddress = Field(alias="from", description="The sender address.")
    to: list[EmailAddress] = Field(min_length=1, description="The recipients.")
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @model_validator(mode="after")
    def _password_with_username(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("an email channel needs both `username` and `password`, or neither")
        return self


ChannelSpec = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]
