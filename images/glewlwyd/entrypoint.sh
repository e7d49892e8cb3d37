#!/bin/sh
# Starts glewlwyd on :4593 with its SQLite database in /var/lib/glewlwyd (made on first start
# from Debian's install script), its external URL from $EXTERNAL_URL, and the admin's
# password set from the secret file $ADMIN_PASSWORD_FILE on every start, so the well-known
# default password is never served.
set -eu
data=/var/lib/glewlwyd
db=$data/glewlwyd.db
: "${EXTERNAL_URL:?EXTERNAL_URL must say where glewlwyd is reached, e.g. https://sso.example.org}"
: "${ADMIN_PASSWORD_FILE:=/run/secrets/admin_password}"
[ -s "$ADMIN_PASSWORD_FILE" ] || { echo "ccci-glewlwyd: no admin password in $ADMIN_PASSWORD_FILE" >&2; exit 1; }
if [ ! -s "$db" ]; then
  sqlite3 "$db.partial" < /usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
  mv "$db.partial" "$db"
fi
# The database user module's hash: base64(PBKDF2-HMAC-SHA256(password, salt, 1000) || salt).
salt=$(openssl rand -hex 8)
hash=$({ openssl kdf -binary -keylen 32 -kdfopt digest:SHA256 \
  -kdfopt "pass:$(cat "$ADMIN_PASSWORD_FILE")" -kdfopt "salt:$salt" -kdfopt iter:1000 PBKDF2
  printf %s "$salt"; } | base64 -w0)
sqlite3 "$db" "UPDATE g_user_password SET guw_password='$hash' WHERE gu_id=(SELECT gu_id FROM g_user WHERE gu_username='admin');"
conf=$data/glewlwyd.conf
sed -e '/^external_url=/d' -e '/^log_mode=/d' -e '/^log_file=/d' -e '/^@include/d' \
  -e '/^admin_session_authentication=/d' /etc/glewlwyd/glewlwyd.conf > "$conf"
cat >> "$conf" <<CONF
external_url="${EXTERNAL_URL%/}"
log_mode="console"
admin_session_authentication="cookie,api_key"
static_files_path="/usr/share/glewlwyd/webapp/"
database = { type = "sqlite3" path = "$db" };
CONF
exec glewlwyd -c "$conf"
