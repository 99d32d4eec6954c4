#!/bin/sh
# Makes a self-signed TLS certificate for nginx when none is there yet; never touches an
# existing one (a mounted real certificate always wins).
#   gen-selfsigned.sh [CERT [KEY [NAMES]]]
# CERT and KEY default to $NGINX_SSL_CERTIFICATE / $NGINX_SSL_CERTIFICATE_KEY, else
# /etc/nginx/certs/fullchain.pem and privkey.pem. NAMES (space-separated host names or IP
# addresses, default $NGINX_SERVER_NAME, else localhost) go in the subject and the
# subjectAltName, with localhost and 127.0.0.1 added. POSIX sh: runs in the nginx image too.
set -eu
set -f  # NAMES may hold wildcards: no globbing

cert=${1:-${NGINX_SSL_CERTIFICATE:-/etc/nginx/certs/fullchain.pem}}
key=${2:-${NGINX_SSL_CERTIFICATE_KEY:-/etc/nginx/certs/privkey.pem}}
names=${3:-${NGINX_SERVER_NAME:-localhost}}

if [ -s "$cert" ] && [ -s "$key" ]; then
  echo "gen-selfsigned: using the certificate in $cert"
  exit 0
fi
if [ -s "$cert" ] || [ -s "$key" ]; then
  echo "gen-selfsigned: only one of $cert and $key exists; provide both (or neither for a" \
    "self-signed certificate)" >&2
  exit 1
fi

cn=""
san="DNS:localhost,IP:127.0.0.1"
for n in $names; do
  case "$n" in
    _ | localhost | 127.0.0.1 | '*'*) continue ;;  # nginx catch-all / already listed / wildcards
  esac
  [ -n "$cn" ] || cn=$n
  if printf '%s' "$n" | grep -Eq '^[0-9.]+$|:'; then san="$san,IP:$n"; else san="$san,DNS:$n"; fi
done
[ -n "$cn" ] || cn=localhost

mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
tmp_key="$key.tmp.$$"
tmp_cert="$cert.tmp.$$"
trap 'rm -f "$tmp_key" "$tmp_cert"' EXIT
umask 077
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 825 \
  -subj "/CN=$cn" -addext "subjectAltName=$san" \
  -keyout "$tmp_key" -out "$tmp_cert" 2>/dev/null
chmod 644 "$tmp_cert"
mv "$tmp_key" "$key"
mv "$tmp_cert" "$cert"
echo "gen-selfsigned: created a self-signed certificate for $cn ($san) in $cert;" \
  "mount a real one to replace it"
