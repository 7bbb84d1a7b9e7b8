"""The Zuul configuration language: sources with positions, definitions, layouts."""
