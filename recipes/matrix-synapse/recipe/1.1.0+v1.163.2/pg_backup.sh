#!/bin/sh
# backupbot hooks of the db service: `backup` dumps the database into the data volume
# (the label backupbot.backup.volumes.db-data.path selects just that file), `restore` loads
# it back in one transaction. The dump is written to a temporary file and moved into place,
# so a dump cut short never replaces a good one.
set -eu
BACKUP_FILE="$PGDATA/backup.sql"

case "${1:-}" in
  backup)
    pg_dump -h /run/postgresql -U "$POSTGRES_USER" --clean --if-exists "$POSTGRES_DB" > "$BACKUP_FILE.tmp"
    mv "$BACKUP_FILE.tmp" "$BACKUP_FILE"
    ;;
  restore)
    psql -h /run/postgresql -U "$POSTGRES_USER" -v ON_ERROR_STOP=1 --single-transaction --quiet \
      -d "$POSTGRES_DB" -f "$BACKUP_FILE" >/dev/null
    ;;
  *)
    echo "usage: $0 backup|restore" >&2
    exit 2
    ;;
esac
