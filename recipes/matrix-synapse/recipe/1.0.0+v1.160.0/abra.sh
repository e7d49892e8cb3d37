# Versions of the configs vendored in this recipe: bump one whenever its file changes.
export HOMESERVER_YAML_VERSION=v1
export LOG_CONFIG_VERSION=v1
export PG_BACKUP_VERSION=v1
