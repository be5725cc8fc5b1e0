"""Listeners of the accounts signals: a deleted user's folders go with their items."""

from django.dispatch import receiver

from apps.accounts.signals import user_deleted

from . import services


@receiver(user_deleted, dispatch_uid="folders.delete_folders_of_deleted_user")
def delete_folders_of_deleted_user(sender, *, user, delete_items=False, **kwargs):
    if delete_items:
        services.delete_all_folders_of(user=user)
