import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files of a Raspberry Pi OS image that provisioning reads or edits, as a fresh image has them. */
export function makeRaspberryPiOsTree(
  dir: string,
  codename: 'bookworm' | 'bullseye',
): { boot: string; root: string } {
  const boot = join(dir, 'boot');
  const root = join(dir, 'root');
  const files: Record<string, string> = {
    'boot/config.txt':
      '# For more options and information see\n# http://rptl.io/configtxt\n\n#dtparam=i2c_arm=on\n#dtparam=i2s=on\n#dtparam=spi=on\n\ndtparam=audio=on\n\n[cm4]\notg_mode=1\n\n[pi4]\narm_boost=1\n',
    'boot/cmdline.txt':
      'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n',
    'boot/start4.elf': '',
    'root/etc/os-release': `PRETTY_NAME="Debian GNU/Linux ${codename === 'bookworm' ? 12 : 11} (${codename})"\nID=debian\nVERSION_CODENAME=${codename}\n`,
    'root/etc/rpi-issue': 'Raspberry Pi reference 2024-11-19\n',
    'root/etc/hostname': 'raspberrypi\n',
    'root/etc/hosts':
      '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\traspberrypi\n',
    'root/etc/locale.gen': '# en_GB.UTF-8 UTF-8\n# de_DE.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\n',
    'root/etc/modules': '# /etc/modules: kernel modules to load at boot time.\n',
    'root/etc/timezone': 'Europe/London\n',
    'root/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\n',
    'root/usr/lib/systemd/system/ssh.service':
      '[Unit]\nDescription=OpenBSD Secure Shell server\n[Service]\nExecStart=/usr/sbin/sshd -D\n',
    'root/usr/sbin/sshd': '#!/bin/sh\n',
    // Docker and the AWS CLI arrive at first boot; verify only needs the unit and binary to exist.
    'root/usr/lib/systemd/system/docker.service':
      '[Unit]\nDescription=Docker stub for verify\n[Service]\nExecStart=/usr/bin/docker\n',
    'root/usr/bin/docker': '#!/bin/sh\n',
    'root/usr/bin/sh': '#!/bin/sh\n',
  };
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  symlinkSync('usr/bin', join(root, 'bin'));
  return { boot, root };
}

/** A provisioning configuration: tools/base's module.conf, secrets and keys plus os.conf. */
export function writeOsConfig(dir: string, os: Record<string, string>): void {
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  mkdirSync(join(dir, 'release-keys'), { recursive: true });
  writeFileSync(
    join(dir, 'module.conf'),
    [
      'MODULE_ID=gw-os-0042',
      'MQTT_URL=mqtts://broker.example.invalid:8883',
      'AWS_REGION=eu-central-1',
      'ECR_REGISTRY=123456789012.dkr.ecr.eu-central-1.amazonaws.com',
      'CORE_IMAGE_REPO=123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/core',
      'UPDATER_IMAGE=123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/updater@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'TUNNEL_IMAGE=123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/tunnel@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      'TELEGRAF_IMAGE=123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/telegraf@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',
      'TELEMETRY_URL=https://influx.example.invalid',
      'TELEMETRY_ORG=growoff',
      'BASTION=bastion.example.invalid:22',
      'BASTION_USER=tunnel',
      'BASTION_HOSTKEY=SHA256:uwhOuvTkw7ccGDBJh0Ykn0TeSVZ7OEfWDSxnMBUrQ2c',
      'TUNNEL_REMOTE_PORT=20042',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'os.conf'),
    Object.entries(os)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  writeFileSync(join(dir, 'secrets/aws-credentials'), '[default]\naws_access_key_id = AKIATEST\n');
  writeFileSync(join(dir, 'secrets/tunnel_ed25519'), 'private key\n');
  writeFileSync(join(dir, 'secrets/telegraf-token'), 'token\n');
  writeFileSync(join(dir, 'secrets/influx-token'), 'cloud token\n');
  writeFileSync(join(dir, 'secrets/wifi-psk'), 'grow-room-passphrase\n');
  writeFileSync(
    join(dir, 'release-keys/release.pem'),
    '-----BEGIN PUBLIC KEY-----\nk\n-----END PUBLIC KEY-----\n',
  );
  writeFileSync(
    join(dir, 'authorized_keys'),
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrowOffTestKey ops@growoff\n',
  );
}
