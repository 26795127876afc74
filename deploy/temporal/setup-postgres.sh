#!/bin/sh
# One-shot schema job (temporalio/admin-tools): creates and migrates Temporal's two PostgreSQL databases.
# Safe to run again: an existing database is kept and only missing schema versions are applied.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
  echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
  sleep 1
done

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"
}

for db in temporal temporal_visibility; do
  sql --db "$db" create-database || echo "database $db exists"
done
sql --db temporal setup-schema -v 0.0 || true
sql --db temporal update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0 || true
sql --db temporal_visibility update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schema ready"
