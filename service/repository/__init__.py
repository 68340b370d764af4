"""The model repository (Triton's versioned layout under models/): scanning folders, reading
manifests, loading each version into a served model with its priors and embeddings, and
reloading when the files change. Knows arrays and files, not HTTP."""
