#!/bin/sh
# MURMUR_START_DELAY (seconds) holds the voice port back, as a slow first boot on a loaded
# host does (database creation, certificate generation): the web sidecar answers first.
set -eu
chown mumble-server:mumble-server /data
if [ "${MURMUR_START_DELAY:-0}" -gt 0 ]; then
  echo "entrypoint: starting murmurd in ${MURMUR_START_DELAY}s"
  sleep "$MURMUR_START_DELAY"
fi
exec murmurd -fg -ini /etc/murmur.ini
