#!/usr/bin/env bash
# Installs moto (the AWS emulator the live-mode integration tests run against) into .venv at the
# repository root. Idempotent and quiet: does nothing when .venv/bin/moto_server is already
# there. The tests look for the server at $AOC_PREFLIGHT_MOTO_SERVER or .venv/bin/moto_server.
#
# Versions are pinned (the whole resolved set, so a later botocore cannot change moto's
# behaviour under the tests). To upgrade: install the new moto in a scratch venv, `pip freeze`,
# paste the list here, and rerun the live tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x .venv/bin/moto_server ]; then
    exit 0
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi

.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    'moto[s3,iam,sts,kms]==5.2.5' \
    'flask==3.1.3' \
    'flask-cors==6.0.5' \
    'blinker==1.9.0' \
    'boto3==1.44.8' \
    'botocore==1.44.8' \
    'certifi==2026.10.19.post1' \
    'cffi==2.1.1' \
    'charset-normalizer==3.5.3' \
    'click==8.5.1' \
    'cryptography==50.0.2' \
    'idna==3.20' \
    'itsdangerous==2.2.0' \
    'Jinja2==3.1.6' \
    'jmespath==1.1.0' \
    'MarkupSafe==3.0.4' \
    'py-partiql-parser==0.6.3' \
    'pycparser==3.12' \
    'python-dateutil==2.9.0.post0' \
    'PyYAML==6.0.4' \
    'requests==2.34.2' \
    'responses==0.26.3' \
    's3transfer==0.19.3' \
    'six==1.17.0' \
    'urllib3==2.8.0' \
    'Werkzeug==3.1.9' \
    'xmltodict==1.0.4'

if [ ! -x .venv/bin/moto_server ]; then
    echo "setup-moto.sh: pip finished but .venv/bin/moto_server is missing" >&2
    exit 1
fi
