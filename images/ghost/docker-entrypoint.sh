#!/bin/bash
# The official image's entrypoint: the server runs as `node`, and an empty content volume is
# seeded from content.orig (themes included) on first start.
set -e
if [[ "$*" == node*current/index.js* ]] && [ "$(id -u)" = 0 ]; then
  find "$GHOST_CONTENT" \! -user node -exec chown node '{}' +
  exec gosu node "$BASH_SOURCE" "$@"
fi
if [[ "$*" == node*current/index.js* ]]; then
  base="$GHOST_INSTALL/content.orig"
  for src in "$base"/*/ "$base"/themes/*; do
    src="${src%/}"
    target="$GHOST_CONTENT/${src#"$base"/}"
    mkdir -p "$(dirname "$target")"
    [ -e "$target" ] || tar -cC "$(dirname "$src")" "$(basename "$src")" | tar -xC "$(dirname "$target")"
  done
fi
exec "$@"
