import os

# Reference data lives under the test's tmp folders, never in a developer's home cache.
os.environ.setdefault("AUDITOR_CACHE", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "auditor"))
