"""What reads WizIQ and applies a plan: reading back what stands there, creating a series once, the
ledger and its stores, and the term sync."""
