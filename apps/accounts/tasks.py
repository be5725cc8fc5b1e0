from celery import shared_task

from . import services


@shared_task(name="apps.accounts.tasks.purge_expired_credentials")
def purge_expired_credentials() -> dict:
    return services.purge_expired_credentials()
