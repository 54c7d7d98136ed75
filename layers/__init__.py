"""The commonsmap layer catalogue: one TOML file per layer, plus the demo data (``demo/``)."""
