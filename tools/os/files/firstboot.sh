#!/bin/sh
# First boot of a provisioned module: installs the Debian packages an unbooted image cannot get
# (the Docker engine and the AWS CLI for the ECR login), generates the configured locale, then
# starts the updater (which starts the other GrowOff containers). Run once by growoff-firstboot.service.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends docker.io awscli
locale-gen
systemctl daemon-reload
systemctl restart docker.service
systemctl start growoff-ecr-login.service growoff-updater.service
mkdir -p /var/lib/growoff
touch /var/lib/growoff/firstboot.done
