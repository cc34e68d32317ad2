"""Webhooks: endpoints, Standard Webhooks signatures, delivery by the worker (see operations)."""
