"""citebot: answers questions with cited passages from a folder of sources."""

__version__ = "0.1.0"
