"""Attacks, one module per group; each attack is a test that must hold."""
