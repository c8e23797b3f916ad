"""Spotter's trainer sidecar: drives Ultralytics, speaks NDJSON (see protocol.py / electron/shared/trainer.ts)."""

__version__ = "0.1.0"
