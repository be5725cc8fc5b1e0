"""The sandbox card processor: no money moves; fixed test card numbers decide the outcome.

| number | outcome |
|---|---|
| 4242 4242 4242 4242 (Visa), 5555 5555 5555 4444 (Mastercard), 3782 822463 10005 (Amex) | success |
| 4000 0000 0000 0002 | declined |
| 4000 0000 0000 9995 | insufficient funds |
| 4000 0000 0000 0119 | processor failure (the service is unavailable) |
| any other valid number | declined: the sandbox charges only its test cards |

Recurring charges against a customer reference it issued always succeed.
"""

import logging
import secrets

from . import DECLINED, INSUFFICIENT_FUNDS, SUCCEEDED, ChargeResult, PaymentProcessor, ProcessorError

logger = logging.getLogger("atelier.billing.sandbox")

SUCCESS_CARDS = frozenset({"4242424242424242", "5555555555554444", "378282246310005"})
DECLINED_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
FAILURE_CARD = "4000000000000119"

CUSTOMER_PREFIX = "sbx_cus_"


class SandboxProcessor(PaymentProcessor):
    name = "sandbox"

    def charge(self, *, card, amount, currency, description, reference):
        if card.number == FAILURE_CARD:
            logger.info("Sandbox charge %s failed (processor failure test card).", reference)
            raise ProcessorError("The sandbox simulated a processor failure.")
        if card.number in SUCCESS_CARDS:
            result = ChargeResult(
                status=SUCCEEDED,
                reference=f"sbx_ch_{secrets.token_hex(12)}",
                customer_reference=f"{CUSTOMER_PREFIX}{secrets.token_hex(12)}",
                message="Payment accepted.",
            )
        elif card.number == INSUFFICIENT_FUNDS_CARD:
            result = ChargeResult(status=INSUFFICIENT_FUNDS, message="The card has insufficient funds.")
        elif card.number == DECLINED_CARD:
            result = ChargeResult(status=DECLINED, message="The card was declined.")
        else:
            result = ChargeResult(
                status=DECLINED, message="The card was declined: the sandbox charges only test cards."
            )
        logger.info(
            "Sandbox charge %s of %s %s: %s (%s ending in %s).",
            reference,
            amount,
            currency,
            result.status,
            card.brand,
            card.last4,
        )
        return result

    def charge_again(self, *, customer_reference, amount, currency, description, reference):
        if not customer_reference.startswith(CUSTOMER_PREFIX):
            return ChargeResult(status=DECLINED, message="The sandbox does not know this customer.")
        logger.info("Sandbox recurring charge %s of %s %s: succeeded.", reference, amount, currency)
        return ChargeResult(
            status=SUCCEEDED,
            reference=f"sbx_ch_{secrets.token_hex(12)}",
            customer_reference=customer_reference,
            message="Payment accepted.",
        )
