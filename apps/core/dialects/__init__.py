"""The dialect kernel: each published API's wire format, implemented once.

A view picks its dialect by inheriting one base class:
``AimgView``/``AimgViewSet`` (aimg), ``SartiqViewSet`` (sartiq), ``OcsView``/``OcsViewSet`` (ocs),
``NeuroflashViewSet`` (neuroflash).
"""

from .base import exception_handler

__all__ = ["exception_handler"]
