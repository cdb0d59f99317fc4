#!/bin/sh
# Logs the Docker engine in to the module's ECR registry so the launcher of growoff-updater.service
# can pull the updater's image. Run by growoff-ecr-login.service; the token lasts 12 hours, the
# updater authenticates its own pulls (of every app, itself included).
set -eu
# shellcheck disable=SC1091
. /etc/growoff/base.env
export AWS_REGION AWS_SHARED_CREDENTIALS_FILE
aws ecr get-login-password --region "$AWS_REGION" |
  docker login --username AWS --password-stdin "$GROWOFF_ECR_REGISTRY"
