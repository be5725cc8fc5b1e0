"""Card payment processors: one small interface, a built-in sandbox, and the configured routing.

``settings.BILLING_CARD_PROCESSORS`` maps each merchant processor the API accepts (AIMG
``merchantProcessor``, e.g. ``arkpay``) to a processor: a name registered here (``sandbox``) or the
dotted path of a ``PaymentProcessor`` subclass. ``settings.BILLING_CARD_PROCESSOR_OPTIONS`` is
passed to its constructor as keyword arguments.

A processor receives the checked card (``apps.billing.cards.CardDetails``) and must never log or
return its number or security code. Recurring charges use the processor's own reference
(``ChargeResult.customer_reference``), never stored card data.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string

from apps.billing.cards import CardDetails
from apps.core.errors import InvalidInput, ServiceUnavailable

SUCCEEDED = "succeeded"
DECLINED = "declined"
INSUFFICIENT_FUNDS = "insufficient_funds"


class ProcessorError(Exception):
    """The processor could not be reached or failed: the outcome of the charge is a failure and no
    money moved."""


@dataclass(frozen=True)
class ChargeResult:
    status: str  # SUCCEEDED, DECLINED or INSUFFICIENT_FUNDS
    reference: str = ""  # the processor's id of this charge
    customer_reference: str = ""  # what later (recurring) charges are made against
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


class PaymentProcessor(ABC):
    """What Atelier asks of a card processor."""

    name = "processor"
    # Whether cancelMembership can stop the processor's recurring billing itself.
    supports_cancellation = True

    def __init__(self, **options):
        self.options = options

    @abstractmethod
    def charge(
        self, *, card: CardDetails, amount: Decimal, currency: str, description: str, reference: str
    ) -> ChargeResult:
        """Charge ``amount`` of ``currency`` to ``card``; ``reference`` is Atelier's payment id."""

    @abstractmethod
    def charge_again(
        self, *, customer_reference: str, amount: Decimal, currency: str, description: str, reference: str
    ) -> ChargeResult:
        """A recurring charge against what an earlier successful charge returned."""

    def cancel(self, *, customer_reference: str) -> None:  # noqa: B027 - optional hook
        """Stop whatever recurring billing the processor runs on its side (nothing by default)."""


REGISTRY = {"sandbox": "apps.billing.processors.sandbox.SandboxProcessor"}


def card_merchant_processors() -> list[str]:
    """The merchant processors that take card payments here (``merchantProcessor`` values)."""
    return list(getattr(settings, "BILLING_CARD_PROCESSORS", {}) or {})


def for_merchant(merchant_processor: str) -> PaymentProcessor:
    """The processor that serves ``merchant_processor``."""
    configured = (getattr(settings, "BILLING_CARD_PROCESSORS", {}) or {}).get(merchant_processor)
    if configured is None:
        message = f"Card payments through {merchant_processor} are not available."
        raise InvalidInput(message, errors={("merchantProcessor",): [message]})
    if not configured:
        raise ServiceUnavailable("Card payments are not configured on this server.")
    path = REGISTRY.get(configured, configured)
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ServiceUnavailable("Card payments are not configured correctly on this server.") from exc
    options = getattr(settings, "BILLING_CARD_PROCESSOR_OPTIONS", {}) or {}
    return cls(**options)
