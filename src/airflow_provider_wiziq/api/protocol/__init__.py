"""WizIQ's Class API as a protocol: errors and their codes, values and requests as WizIQ reads them,
answers, signing, the sync and async clients, one retry policy and the shared rate limit."""
