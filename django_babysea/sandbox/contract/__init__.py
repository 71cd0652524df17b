"""What the BabySea contract fixes: error codes, the model catalog and prices."""
