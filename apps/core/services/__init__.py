"""Writes of the core app, one module per area (files, logs, ads, SQL console, retention)."""
