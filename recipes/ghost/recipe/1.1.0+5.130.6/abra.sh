# Versions of the configs vendored in this recipe: bump one whenever its file changes.
export ABRA_ENTRYPOINT_VERSION=v1
export MYSQL_BACKUP_VERSION=v1
