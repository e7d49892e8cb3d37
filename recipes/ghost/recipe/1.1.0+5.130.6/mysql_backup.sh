#!/bin/bash
# backupbot hooks of the db service: `backup` dumps the ghost database gzipped into the data
# volume (backupbot.backup.volumes.mysql_data.path selects just that file), `restore` loads it
# back. The dump is written to a temporary file, tested as gzip and only then moved into place,
# so a dump cut short (the server restarted mid-dump) fails the backup instead of replacing a
# good dump with a truncated one.
set -euo pipefail
BACKUP_FILE=/var/lib/mysql/backup.sql.gz
export MYSQL_PWD
MYSQL_PWD=$(cat /run/secrets/db_password)

case "${1:-}" in
  backup)
    mariadb-dump --user=root --single-transaction --routines --databases "${MYSQL_DATABASE:-ghost}" \
      | gzip > "$BACKUP_FILE.tmp"
    gzip --test "$BACKUP_FILE.tmp"
    mv "$BACKUP_FILE.tmp" "$BACKUP_FILE"
    ;;
  restore)
    gzip --decompress --stdout "$BACKUP_FILE" | mariadb --user=root
    ;;
  *)
    echo "usage: $0 backup|restore" >&2
    exit 2
    ;;
esac
