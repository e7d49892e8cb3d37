#!/bin/sh
# A new RSA key pair for one realm: the private key's PEM, then the public key's.
set -eu
key=$(mktemp)
trap 'rm -f "$key"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
cat "$key"
openssl pkey -in "$key" -pubout
