"""Alembic environment of the history store. Run programmatically by auditor.history.store.migrate,
which passes an open connection in ``config.attributes["connection"]`` (no alembic.ini needed).
For development, `alembic -x url=sqlite:///h.sqlite revision --autogenerate` also works."""

from alembic import context
from sqlalchemy import create_engine

from auditor.history.models import metadata

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
