"""Publishing and serving: the model artifact, the run's manifest, outputs published all
at once, promotion into another mode's config, and batch scoring.

Guarantees: artifacts are saved with skops and loaded only when their hash and types
check out; a run's outputs appear together or not at all; nothing a run did not create
is deleted or overwritten.
"""
