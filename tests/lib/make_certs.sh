#!/bin/sh
# tests/lib/make_certs.sh DIR: the certificates of the TLS tests, made with
# the openssl command (EC P-256 keys, PEM files):
#   ca.crt ca.key              the cluster's CA (clients and nodes)
#   node.crt node.key          a node: CN and SAN 127.0.0.1 (DNS and IP)
#   node2.crt node2.key        another certificate for it (O=second), for
#                              reload tests
#   client.crt client.key      a client certificate, signed by ca
#   expired.crt expired.key    a node certificate valid in 2020 only
#   wrongname.crt wrongname.key  signed by ca, naming other.invalid only
#   other-ca.crt other-ca.key  another CA, and rogue.crt rogue.key: a node
#                              certificate for 127.0.0.1 signed by it
# mbedTLS 2.28 (under nng's TLS) matches a server name against the CN and
# the DNS names only, so 127.0.0.1 is a DNS name too.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1.key" 2>/dev/null; }
ca() { # name subject
    key "$1"
    openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 30 \
        -subj "$2" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
cert() { # name ca subject san [openssl ca dates]
    name=$1 signer=$2 subj=$3 san=$4
    key "$name"
    openssl req -new -key "$name.key" -out "$name.csr" -subj "$subj" \
        2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' \
        "$san" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$signer.crt" -CAkey "$signer.key" \
        -CAcreateserial -out "$name.crt" -days 30 -extfile "$name.ext" \
        2>/dev/null
    rm -f "$name.csr" "$name.ext"
}
local_san="DNS:127.0.0.1,IP:127.0.0.1,DNS:localhost"
ca ca "/CN=mq test CA"
cert node ca "/CN=127.0.0.1" "$local_san"
cert node2 ca "/O=second/CN=127.0.0.1" "$local_san"
cert client ca "/CN=mq test client" "DNS:client.invalid"
cert wrongname ca "/CN=other.invalid" "DNS:other.invalid"
ca other-ca "/CN=another CA"
cert rogue other-ca "/CN=127.0.0.1" "$local_san"

# Expired: openssl ca sets past dates (openssl x509 cannot before 3.4).
key expired
openssl req -new -key expired.key -out expired.csr -subj "/CN=127.0.0.1" \
    2>/dev/null
mkdir -p ca.db
: >ca.db/index.txt
cat >ca.db/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = ext
[ any ]
commonName = supplied
[ ext ]
subjectAltName = $local_san
extendedKeyUsage = serverAuth,clientAuth
CNF
echo 1000 >ca.db/serial
openssl ca -batch -config ca.db/ca.cnf -cert ca.crt -keyfile ca.key \
    -in expired.csr -out expired.crt -startdate 20200101000000Z \
    -enddate 20200201000000Z -notext 2>/dev/null
rm -rf expired.csr ca.db
