"""Writes of the accounts app, one module per area; the names below are the app's service API.

- ``core``: sessions, tokens, admin keys, organizations, restore
- ``signin``: sign-up and sign-in (password, OTP), sign-out, session rotation
- ``profile``: the user's own properties, profile picture, key-value pairs, deletion, moderation
- ``oauth``: sign-in through external providers
- ``app_passwords``: app passwords (HTTP Basic for Nextcloud OCS clients)
"""

from .core import *  # noqa: F403
from .core import __all__ as _core_all

__all__ = list(_core_all)

from .app_passwords import *  # noqa: F403
from .app_passwords import __all__ as _app_passwords_all
from .oauth import *  # noqa: F403
from .oauth import __all__ as _oauth_all
from .otp import *  # noqa: F403
from .otp import __all__ as _otp_all
from .profile import *  # noqa: F403
from .profile import __all__ as _profile_all
from .signin import *  # noqa: F403
from .signin import __all__ as _signin_all

__all__ += _otp_all + _signin_all
__all__ += _profile_all
__all__ += _oauth_all
__all__ += _app_passwords_all
