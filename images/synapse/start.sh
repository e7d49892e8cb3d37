#!/bin/sh
# The official image's `run` mode (docker/start.py): Synapse with SYNAPSE_CONFIG_PATH (default
# /data/homeserver.yaml), its signing key made on first start (`--generate-keys`, as the
# `generate` mode does), /data owned by UID:GID, the server run as that user.
set -eu
config=${SYNAPSE_CONFIG_PATH:-/data/homeserver.yaml}
uid=${UID:-991}
gid=${GID:-991}
if [ ! -f "$config" ]; then
  echo "start.sh: config file '$config' does not exist: mount one (SYNAPSE_CONFIG_PATH)" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  mkdir -p /data
  chown "$uid:$gid" /data
  run="gosu $uid:$gid"
else
  run=
fi
$run python -m synapse.app.homeserver --config-path "$config" --keys-directory /data --generate-keys
exec $run python -m synapse.app.homeserver --config-path "$config" --keys-directory /data
