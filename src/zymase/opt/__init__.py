"""The tensor optimizer: rewrite-rule machinery (pattern.py), rule families (rules/) and
passes."""
