from smtplib import SMTPException

from celery import shared_task

from . import services

_MAIL_RETRY = {
    "autoretry_for": (OSError, SMTPException),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name="apps.billing.tasks.expire_subscriptions")
def expire_subscriptions() -> int:
    return services.expire_due_subscriptions()


@shared_task(name="apps.billing.tasks.renew_subscriptions")
def renew_subscriptions() -> dict:
    return services.renew_due_subscriptions()


@shared_task(name="apps.billing.tasks.purge_expired_boosty_cookies")
def purge_expired_boosty_cookies() -> int:
    return services.purge_expired_boosty_cookies()


@shared_task(name="apps.billing.tasks.send_pay_with_card_email", **_MAIL_RETRY)
def send_pay_with_card_email(domain_id: str, email: str) -> str:
    return services.send_pay_with_card_email(domain_id=domain_id, email=email)


@shared_task(name="apps.billing.tasks.send_cancellation_instructions", **_MAIL_RETRY)
def send_cancellation_instructions(subscription_id: str) -> str:
    return services.send_cancellation_instructions(subscription_id=subscription_id)
