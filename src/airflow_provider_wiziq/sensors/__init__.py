"""Sensors that wait for WizIQ classes."""
