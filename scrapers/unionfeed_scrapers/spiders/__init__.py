"""Spiders. `generic` serves every source in config/sources.yaml; a site with a truly odd layout gets its own
module here, named by its slug."""
