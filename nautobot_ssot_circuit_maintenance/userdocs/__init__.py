"""The user documentation in Nautobot: the pages (docs/ and mkdocs.yml, shipped in the package) and their views."""
