"""Session rules in plain Python: the fold, lifecycles, scopes and validity.

No Kafka, no Faust, no clocks: every function takes the time it needs as an
argument, so that replays and simulations give the same answers as live runs.
"""
