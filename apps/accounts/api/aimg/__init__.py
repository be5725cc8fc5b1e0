"""AIMG user management, one module per area: ``signin``, ``profile``, ``oauth``.

Each module holds its views and its ``urlpatterns``; ``apps.accounts.urls`` includes them.
"""
