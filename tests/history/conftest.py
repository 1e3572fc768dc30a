from review.synth import history_url  # noqa: F401  (fixture over SQLite and PostgreSQL)
