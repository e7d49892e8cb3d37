#!/bin/bash
# Ghost reads its settings from the environment (`database__connection__password` and so on)
# but not from files: every `<setting>_FILE` variable is read into `<setting>`, so secrets stay
# in /run/secrets. Then the image's own entrypoint runs.
set -e
for name in $(compgen -e); do
  case "$name" in
    *_FILE)
      export "${name%_FILE}=$(cat "${!name}")"
      unset "$name"
      ;;
  esac
done
exec docker-entrypoint.sh "$@"
