"""Text to vectors: the local model (NumPy, ONNX Runtime or torch) or an OpenAI-compatible server."""
