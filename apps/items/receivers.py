"""Listeners of the accounts signals: guest items move on sign-in, deleted users' items go."""

from django.dispatch import receiver

from apps.accounts.signals import guest_session_signed_in, user_deleted

from . import services


@receiver(guest_session_signed_in, dispatch_uid="items.adopt_guest_items")
def adopt_guest_items(sender, *, session, user, **kwargs):
    services.adopt_guest_items(session=session, user=user)


@receiver(user_deleted, dispatch_uid="items.delete_items_of_deleted_user")
def delete_items_of_deleted_user(sender, *, user, delete_items=False, **kwargs):
    if delete_items:
        services.soft_delete_all_items_of(user=user)
