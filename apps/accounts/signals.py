"""Signals of the accounts app that other apps listen to."""

from django.dispatch import Signal

# Sent when a guest API session signs in, before it is rotated: receivers move what the guest
# made (items, folders, …) to the user. Arguments: ``session`` (the guest ApiSession), ``user``.
guest_session_signed_in = Signal()

# Sent when a user is soft-deleted. Arguments: ``user``, ``delete_items`` (bool). The items app
# soft-deletes the user's items when ``delete_items`` is true.
user_deleted = Signal()
