"""What every Sartiq catalogue resource shares: ownership and organizations, media inputs, the
resource ViewSet. Apps build their resources on these modules (see each module's docstring)."""
