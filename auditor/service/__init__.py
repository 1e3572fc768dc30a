"""The scrub service (``auditor serve``): FastAPI app in :mod:`auditor.service.app`."""
