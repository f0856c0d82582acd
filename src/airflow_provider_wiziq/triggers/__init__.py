"""Triggers that wait in Airflow's triggerer for WizIQ classes, sharing their polls per connection."""
