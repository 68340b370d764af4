"""latentlab's HTTP service: serves the autoencoders exported under models/ (never the trainer)."""
