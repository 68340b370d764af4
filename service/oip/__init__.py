"""The Open Inference Protocol (KServe/Triton "v2", REST) over the same engine as our verbs:
each served model NAME is `NAME-encoder` and `NAME-decoder` under /v2 (routes/v2.py)."""
