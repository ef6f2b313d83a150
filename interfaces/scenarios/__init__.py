"""Scenarios replayed through the application's use cases on their own clock:
the small demo cold chain and the January 2021 rollout. The CLI and the tests
import them; they never run at import time."""
