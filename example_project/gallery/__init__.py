"""The example site's pages: a gallery of generations and a page that makes new ones."""
