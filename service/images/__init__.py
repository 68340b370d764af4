"""Image input: decoding uploads safely, finding the digit and making it MNIST-like, and
turning a request's images or JSON pixels into (N, 28, 28) float32 batches."""
