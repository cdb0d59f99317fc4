#!/bin/sh
# Logs the Docker engine in to the module's ECR registry so growoff-updater, growoff-tunnel and
# growoff-telegraf can pull their images the first time. Run by growoff-ecr-login.service; the
# token lasts 12 hours, later pulls of the core are authenticated by the updater itself.
set -eu
# shellcheck disable=SC1091
. /etc/growoff/base.env
export AWS_REGION AWS_SHARED_CREDENTIALS_FILE
aws ecr get-login-password --region "$AWS_REGION" |
  docker login --username AWS --password-stdin "$GROWOFF_ECR_REGISTRY"
