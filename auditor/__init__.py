"""auditor: rules-based compliance auditing for medical billing and coding."""

__version__ = "0.1.0"
