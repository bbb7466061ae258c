"""The import's DiffSync models: what both adapters share, and how this app writes them."""
