#!/bin/sh
# deploy/secure/make-certs.sh DIR [HOST1 HOST2 HOST3]
#
# Makes, with openssl, what a secured three-node cluster needs (PEM files,
# EC P-256 keys) in DIR:
#   ca.crt ca.key          the cluster CA: signs the nodes' certificates
#                          (keep ca.key off the nodes)
#   nodeN.crt nodeN.key    node N's certificate for HOSTN (as a DNS name and
#                          an IP entry), for clients and for the other nodes
#   client.crt client.key  a client certificate signed by the CA, for nodes
#                          that set tls_client_ca_file
# Hosts default to 127.0.0.1 (the example configs in this directory).
set -eu
dir=${1:?usage: make-certs.sh DIR [HOST1 HOST2 HOST3]}
shift
[ $# -eq 0 ] && set -- 127.0.0.1 127.0.0.1 127.0.0.1
mkdir -p "$dir"
cd "$dir"
umask 077
key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1.key"
}
if [ ! -f ca.key ]; then
    key ca
    openssl req -x509 -new -key ca.key -out ca.crt -days 3650 \
        -subj "/CN=mq cluster CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
fi
sign() { # name subject extensions
    key "$1"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "$2"
    printf '%s\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
        -out "$1.crt" -days 825 -extfile "$1.ext"
    rm -f "$1.csr" "$1.ext"
}
n=1
for host in "$@"; do
    case $host in
    *[!0-9.]*) san="DNS:$host" ;;      # a name
    *) san="DNS:$host,IP:$host" ;;      # an IPv4 address: both entries
    esac
    sign "node$n" "/CN=$host" \
        "subjectAltName=$san
extendedKeyUsage=serverAuth,clientAuth"
    n=$((n + 1))
done
sign client "/CN=mq client" "extendedKeyUsage=clientAuth"
chmod 644 ./*.crt
echo "make-certs: certificates in $dir"
