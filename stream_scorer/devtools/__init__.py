"""Development tools: the embedded broker, the test producer, synthetic data and the demo."""
