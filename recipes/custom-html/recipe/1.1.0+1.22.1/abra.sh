# Versions of the configs vendored in this recipe: bump one whenever its file changes
# (Swarm configs are immutable).
export NGINX_CONF_VERSION=v1
