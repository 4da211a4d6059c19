#!/usr/bin/env bash
# The command of a stand-in server that is a container running Debian's nginx (the bookworm
# image of local/servers/images.sh): sets the server up as its operator would before the first
# deployment, then runs nginx in the foreground (the container's main process).
#
#   nginx-server.sh CERT_NAME LISTEN     e.g. nginx-server.sh demo 127.0.0.1:8443
#
# - the allow-list /etc/acm-cert-export/reload-commands: `/usr/sbin/nginx -s reload` (kept if
#   the file is there);
# - a TLS server block on LISTEN with ssl_certificate /etc/ssl/certs/CERT_NAME-fullchain.pem and
#   ssl_certificate_key /etc/ssl/private/CERT_NAME-privkey.pem, the paths the install script
#   writes; Debian's default site (port 80) is removed;
# - until the first deployment those paths hold the operator's previous certificate: a
#   self-signed placeholder (CN placeholder.CERT_NAME) dated 2020-01-01 to 2030-01-01, so that
#   nginx starts and serves TLS at once; it is older than any certificate ACM issues now, so the
#   install script replaces it (a newer one would be a downgrade it refuses).
#
# The Run Command stand-in then runs the install script in this container (tag
# standin:container=<name>), and the script's reload is the real `nginx -s reload`.
set -euo pipefail
name="${1:?usage: nginx-server.sh CERT_NAME LISTEN}"
listen="${2:?usage: nginx-server.sh CERT_NAME LISTEN}"
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || {
  echo "nginx-server.sh: bad certificate name: $name" >&2
  exit 2
}
[[ "$listen" =~ ^([0-9.]+:)?[0-9]+$ ]] || {
  echo "nginx-server.sh: LISTEN must be PORT or ADDRESS:PORT, got $listen" >&2
  exit 2
}
cert="/etc/ssl/certs/$name-fullchain.pem"
key="/etc/ssl/private/$name-privkey.pem"

allow=/etc/acm-cert-export/reload-commands
if [ ! -e "$allow" ]; then
  mkdir -p "$(dirname "$allow")"
  printf '%s\n' '# Reload commands the acm-cert-export install script may run, one per line.' \
    '/usr/sbin/nginx -s reload' >"$allow"
fi

if [ ! -e "$cert" ] || [ ! -e "$key" ]; then
  work="$(mktemp -d)"
  mkdir -p "$work/new" /etc/ssl/certs /etc/ssl/private
  chmod 0700 /etc/ssl/private
  : >"$work/index.txt"
  cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = placeholder
[placeholder]
database = $work/index.txt
new_certs_dir = $work/new
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
EOF
  (
    umask 077
    openssl req -new -newkey rsa:2048 -nodes -keyout "$key" -subj "/CN=placeholder.$name" \
      -out "$work/request.pem" 2>/dev/null
  )
  # openssl 3.0 (bookworm) sets a start date only through `openssl ca`.
  openssl ca -batch -notext -selfsign -config "$work/ca.cnf" -keyfile "$key" \
    -in "$work/request.pem" -out "$cert" -startdate 20200101000000Z -enddate 20300101000000Z \
    2>"$work/ca.log" || {
    cat "$work/ca.log" >&2
    exit 1
  }
  chmod 0644 "$cert"
  rm -rf "$work"
fi

rm -f /etc/nginx/sites-enabled/default
cat >/etc/nginx/sites-enabled/acm-cert-export <<EOF
# Written by acm-cert-export's nginx-server.sh: TLS with the files the install script writes.
server {
    listen $listen ssl;
    server_name _;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    location / {
        default_type text/plain;
        return 200 "nginx on \$hostname serves $name\n";
    }
}
EOF
nginx -t -q
echo "nginx-server.sh: nginx serves TLS on $listen with $cert"
exec nginx -g 'daemon off;'
