from celery import shared_task

from .policies import get_policy
from .storage import normalize_stored_image as normalize_stored_image_service


@shared_task(
    name="apps.core.media.tasks.normalize_stored_image",
    acks_late=True,
    autoretry_for=(OSError,),
    dont_autoretry_for=(FileNotFoundError,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def normalize_stored_image(
    name: str,
    policy: str,
    output_name: str | None = None,
    thumbnail_name: str | None = None,
    checksum_algorithm: str = "sha256",
) -> dict:
    """Normalize the stored file ``name`` with the named media policy; returns its metadata.
    Storage errors are retried with backoff; a refused image is final."""
    return normalize_stored_image_service(
        name,
        policy=get_policy(policy),
        output_name=output_name,
        thumbnail_name=thumbnail_name,
        checksum_algorithm=checksum_algorithm,
    )
