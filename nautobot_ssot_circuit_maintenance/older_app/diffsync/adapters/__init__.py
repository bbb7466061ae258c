"""The import's two sides: the older app's records, and what this app holds of them."""
