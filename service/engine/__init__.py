"""The serving engine: model runtimes (ONNX Runtime, TorchScript) and the dynamic batcher
that gathers concurrent requests to one model into one forward pass."""
