"""Derivative rules, one module per family (see ..registry for the tiers)."""
