"""Signed webhook deliveries with the retry schedule, on a timer heap and a worker pool."""
