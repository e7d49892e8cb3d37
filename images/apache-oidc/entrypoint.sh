#!/bin/sh
# Configures mod_auth_openidc from the env (OIDC_ISSUER, OIDC_CLIENT_ID) and the secret files
# (the client secret, the passphrase sessions are encrypted with, and the authorities that
# sign the provider's TLS certificate), then runs Apache in the foreground.
# /private/ needs a signed-in user (authorization code flow); /api/ takes a bearer access
# token the same provider signed. Without OIDC_ISSUER, sign-in is off: the public page is
# served and /private/ and /api/ answer 503, as an app whose SSO is not set up does.
set -eu
secret() { # the content of /run/secrets/$1, which must be there
  [ -s "/run/secrets/$1" ] || { echo "apache-oidc: secret $1 is missing or empty" >&2; exit 1; }
  cat "/run/secrets/$1"
}
conf=/etc/apache2/conf-enabled/oidc.conf
cat > "$conf" <<'CONF'
<Directory /var/www/html>
  Options +Includes
  AddOutputFilter INCLUDES .shtml
  DirectoryIndex index.html index.shtml
</Directory>
CONF
if [ -z "${OIDC_ISSUER:-}" ]; then
  echo "apache-oidc: OIDC_ISSUER is not set: sign-in is off" >&2
  cat >> "$conf" <<'CONF'
<LocationMatch "^/(private|api)/">
  Redirect 503
</LocationMatch>
CONF
  exec apache2ctl -D FOREGROUND
fi
: "${OIDC_CLIENT_ID:?OIDC_CLIENT_ID must be the app's client id at the provider}"
client_secret=$(secret oidc_client_secret)
passphrase=$(secret crypto_passphrase)
secret oidc_ca >/dev/null
issuer=${OIDC_ISSUER%/}
cat >> "$conf" <<CONF
OIDCProviderMetadataURL $issuer/.well-known/openid-configuration
OIDCClientID $OIDC_CLIENT_ID
OIDCClientSecret "$client_secret"
OIDCRedirectURI /private/redirect_uri
OIDCCryptoPassphrase "$passphrase"
OIDCScope "openid"
OIDCRemoteUserClaim sub
OIDCCABundlePath /run/secrets/oidc_ca
OIDCXForwardedHeaders X-Forwarded-Proto
OIDCOAuthVerifyJwksUri $issuer/jwks
OIDCOAuthRemoteUserClaim sub
<Location /private/>
  AuthType openid-connect
  Require valid-user
</Location>
<Location /api/>
  AuthType oauth20
  Require valid-user
</Location>
CONF
exec apache2ctl -D FOREGROUND
