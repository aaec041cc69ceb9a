"""Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito."""

__version__ = "0.1.0"
