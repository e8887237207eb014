"""The classifier's rules and feature code as it was BEFORE it was made fast
(bench/classify_bench.py measures the speed), frozen.

tests/nlp/test_speed_equivalence.py runs this and the live `nlp` code side by side on real dev
rows and obfuscated posts and demands identical normalised text, trail, lexicon hits, detections,
feature matrices and model outputs: the shipped model was trained on these features, so a faster
implementation may not move a single hash bucket.

When a change to the BEHAVIOUR of the normaliser, lexicon matching, detectors or features is
intended (a new homophone, a new detector), make the same change here, so that this stays the
slow-but-obvious twin of the live code rather than a record of the past.
"""
