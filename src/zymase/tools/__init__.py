"""Command-line tools: ``zymase-opt`` (:mod:`.opt`)."""
