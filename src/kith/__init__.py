"""Kith: an open-source CRM you own."""

__version__ = "0.1.0"
