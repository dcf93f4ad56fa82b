#!/usr/bin/env bash
# Writes docker/kafka-secure/certs/: a CA (ca.pem) and the broker's key and certificate in one PEM file
# (kafka.keystore.pem, Kafka's PEM keystore), for docker/compose.secure.yaml. Run once before `up`; needs openssl.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p certs
cd certs
openssl req -x509 -newkey rsa:2048 -noenc -days 365 -keyout ca.key -out ca.pem -subj "/CN=tailhouse compose CA"
openssl req -newkey rsa:2048 -noenc -keyout kafka.key -out kafka.csr -subj "/CN=kafka"
printf 'basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth, clientAuth\nsubjectAltName = DNS:kafka, DNS:localhost, IP:127.0.0.1\n' > kafka.ext
openssl x509 -req -days 365 -in kafka.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out kafka.pem -extfile kafka.ext
cat kafka.key kafka.pem > kafka.keystore.pem
# The broker runs as the image's non-root user: it must be able to read its keystore.
chmod 644 ca.pem kafka.keystore.pem
rm -f kafka.csr kafka.ext ca.srl
echo "wrote $(pwd)/ca.pem and $(pwd)/kafka.keystore.pem"
