"""Tier 3: gather, scatter, sort, reduce_window, select_and_scatter, convolution and the
linear-algebra ops."""
