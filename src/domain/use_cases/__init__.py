"""Use cases: each a small class (dependencies in the constructor, one entry method) or a pure function."""
