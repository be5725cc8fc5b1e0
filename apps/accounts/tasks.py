from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(name="apps.accounts.tasks.purge_expired_credentials")
def purge_expired_credentials() -> dict:
    return services.purge_expired_credentials()


@shared_task(
    name="apps.accounts.tasks.send_otp_email",
    autoretry_for=(OSError, SMTPException),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_otp_email(otp_id: str, sealed_code: str) -> str:
    """Mail a one-time code (sealed: see services.otp); retried while the mail server fails."""
    return services.send_otp_email(otp_id=otp_id, sealed_code=sealed_code)


@shared_task(name="apps.accounts.tasks.purge_stale_otps")
def purge_stale_otps() -> int:
    return services.purge_stale_otps()
