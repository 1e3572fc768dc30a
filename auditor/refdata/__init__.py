"""Reference data: a store of versioned tables (NCCI, MUE, ICD-10-CM, …) chosen by date of service.

See docs/DESIGN.md (contract) and docs/refdata.md (importing CMS files).
"""

from auditor.refdata.store import Imported, RefStore, Version, in_effect

__all__ = ["Imported", "RefStore", "Version", "in_effect"]
