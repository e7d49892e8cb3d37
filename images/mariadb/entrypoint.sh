#!/bin/sh
# Initialises an empty data directory the way the official mariadb image does, then runs
# the server as the mysql user on every interface.
set -eu

# file_env VAR: VAR, else MARIADB_ form, else the contents of VAR_FILE.
file_env() {
  var=$1; alt=MARIADB_${1#MYSQL_}
  eval "val=\${$var:-\${$alt:-}}"
  eval "file=\${${var}_FILE:-\${${alt}_FILE:-}}"
  if [ -z "$val" ] && [ -n "$file" ]; then val=$(cat "$file"); fi
  eval "$var=\$val"
}
file_env MYSQL_ROOT_PASSWORD
file_env MYSQL_DATABASE
file_env MYSQL_USER
file_env MYSQL_PASSWORD

mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql
if [ "$1" = mariadbd ] && [ ! -d /var/lib/mysql/mysql ]; then
  : "${MYSQL_ROOT_PASSWORD:?set MYSQL_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD_FILE}"
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb --socket=/run/mysqld/init.sock -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.5
  done
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$MYSQL_ROOT_PASSWORD';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$MYSQL_ROOT_PASSWORD';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "$MYSQL_DATABASE" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"; fi
    if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
      echo "CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$MYSQL_PASSWORD';"
      if [ -n "$MYSQL_DATABASE" ]; then echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"; fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket=/run/mysqld/init.sock -uroot
  kill "$pid"; wait "$pid" || true
  echo "entrypoint: initialised /var/lib/mysql (database ${MYSQL_DATABASE:-none})"
fi

if [ "$1" = mariadbd ]; then
  exec mariadbd --user=mysql --bind-address=0.0.0.0 --skip-name-resolve
fi
exec "$@"
