# Versions of the configs vendored in this recipe: bump one whenever its file changes.
export PG_BACKUP_VERSION=v1
