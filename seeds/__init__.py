"""Demo data and synthetic data for Peacemap, and their loaders."""
