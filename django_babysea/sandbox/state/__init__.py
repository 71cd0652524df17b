"""One region's state: accounts, credits, generation records and their lifecycle, the clock."""
