import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  writeFileSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '@growoff/test-services';
import { makeRaspberryPiOsTree, writeOsConfig } from './rpi-tree';

const provision = resolve(dirname(fileURLToPath(import.meta.url)), '../provision.sh');

function run(boot: string, root: string, config: string) {
  const r = spawnSync('bash', [provision, '--boot', boot, '--root', root, '--config', config], {
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const read = (path: string) => readFileSync(path, 'utf8');
const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** Every path under dir with mode, owner, mtime and content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      const content = st.isSymbolicLink()
        ? readlinkSync(join(dir, path))
        : st.isFile()
          ? createHash('sha256')
              .update(readFileSync(join(dir, path)))
              .digest('hex')
          : 'dir';
      out[path] = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${content}`;
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

describe('tools/os provision.sh on a bookworm image', () => {
  let work: string;
  let boot: string;
  let root: string;
  let config: string;
  let first: ReturnType<typeof run>;

  beforeAll(() => {
    ensureDebianPackages([{ file: '/usr/bin/systemd-analyze', package: 'systemd' }]);
    work = mkdtempSync(join(tmpdir(), 'growoff-os-'));
    ({ boot, root } = makeRaspberryPiOsTree(work, 'bookworm'));
    config = join(work, 'config');
    writeOsConfig(config, {
      WIFI_SSID: 'Grow Room 2',
      WIFI_COUNTRY: 'DE',
      LOCALE: 'de_DE.UTF-8',
      TIMEZONE: 'Europe/Berlin',
      KEYBOARD: 'de',
      ADMIN_USER: 'ops',
    });
    first = run(boot, root, config);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('sets the hostname from the module id, in /etc/hostname and /etc/hosts', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(read(join(root, 'etc/hostname'))).toBe('growoff-gw-os-0042\n');
    expect(read(join(root, 'etc/hosts'))).toBe(
      '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\tgrowoff-gw-os-0042\n',
    );
  });

  it('configures Wi-Fi as a NetworkManager keyfile, 0600, with the regulatory domain', () => {
    const keyfile = join(root, 'etc/NetworkManager/system-connections/growoff-wifi.nmconnection');
    expect(modeOf(keyfile)).toBe('600');
    const text = read(keyfile);
    expect(text).toContain('[wifi]\nmode=infrastructure\nssid=Grow Room 2\n');
    expect(text).toContain('[wifi-security]\nkey-mgmt=wpa-psk\npsk=grow-room-passphrase\n');
    expect(text).toMatch(/^uuid=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/m);
    expect(existsSync(join(root, 'etc/wpa_supplicant/wpa_supplicant.conf'))).toBe(false);
    expect(read(join(boot, 'cmdline.txt'))).toBe(
      'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait cfg80211.ieee80211_regdom=DE\n',
    );
  });

  it('turns the radio on in a bookworm image that ships Wi-Fi disabled', () => {
    expect(read(join(root, 'var/lib/NetworkManager/NetworkManager.state'))).toBe(
      '[main]\nNetworkingEnabled=true\nWirelessEnabled=true\nWWANEnabled=true\n',
    );
    const rfkill = join(root, 'var/lib/systemd/rfkill');
    expect(read(join(rfkill, 'platform-3f300000.mmcnr:wlan'))).toBe('0\n');
    expect(read(join(rfkill, 'platform-fe300000.mmcnr:wlan'))).toBe('0\n');
    // Only the Wi-Fi radios: Bluetooth keeps the state it shipped with.
    expect(read(join(rfkill, 'platform-fe201000.serial:bluetooth'))).toBe('1\n');
    // A radio systemd-rfkill has no state for is unblocked at boot, before the network starts.
    const unit = read(join(root, 'etc/systemd/system/growoff-wifi-unblock.service'));
    expect(unit).toMatch(/^After=systemd-rfkill\.service$/m);
    expect(unit).toMatch(/^Before=.*\bNetworkManager\.service\b/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/lib\/growoff\/wifi-unblock\.sh$/m);
    expect(
      readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/growoff-wifi-unblock.service')),
    ).toBe('/etc/systemd/system/growoff-wifi-unblock.service');
    expect(modeOf(join(root, 'usr/local/lib/growoff/wifi-unblock.sh'))).toBe('755');
  });

  it('unblocks at boot every soft-blocked Wi-Fi radio and nothing else', () => {
    const sysfs = mkdtempSync(join(work, 'rfkill-'));
    const radios = {
      rfkill0: ['wlan', 'phy0', '1'],
      rfkill1: ['bluetooth', 'hci0', '1'],
      rfkill2: ['wlan', 'phy1', '0'],
    };
    for (const [name, [type, device, soft]] of Object.entries(radios)) {
      mkdirSync(join(sysfs, name));
      writeFileSync(join(sysfs, name, 'type'), `${type}\n`);
      writeFileSync(join(sysfs, name, 'name'), `${device}\n`);
      writeFileSync(join(sysfs, name, 'soft'), `${soft}\n`);
    }
    const r = spawnSync('sh', [join(root, 'usr/local/lib/growoff/wifi-unblock.sh'), sysfs], {
      encoding: 'utf8',
    });
    expect(r).toMatchObject({ status: 0, stdout: 'unblocked phy0\n', stderr: '' });
    expect(read(join(sysfs, 'rfkill0/soft'))).toBe('0\n');
    expect(read(join(sysfs, 'rfkill1/soft'))).toBe('1\n');
  });

  it('orders the first boot after the clock is synchronised (a Pi has no RTC: apt and AWS signing need it)', () => {
    const unit = read(join(root, 'etc/systemd/system/growoff-firstboot.service'));
    const list = (key: string) =>
      [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].flatMap((m) => m[1]!.trim().split(/\s+/));
    for (const key of ['Wants', 'After']) {
      expect(list(key), key).toEqual(
        expect.arrayContaining([
          'network-online.target',
          'time-sync.target',
          'systemd-time-wait-sync.service',
        ]),
      );
    }
  });

  it('sets locale, timezone and keyboard', () => {
    expect(read(join(root, 'etc/locale.gen'))).toBe(
      '# en_GB.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\n',
    );
    expect(read(join(root, 'etc/default/locale'))).toBe(
      'LANG=de_DE.UTF-8\nLC_ALL=de_DE.UTF-8\nLANGUAGE=de_DE.UTF-8\n',
    );
    expect(read(join(root, 'etc/timezone'))).toBe('Europe/Berlin\n');
    expect(readlinkSync(join(root, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Europe/Berlin');
    expect(read(join(root, 'etc/default/keyboard'))).toContain('XKBLAYOUT="de"\n');
  });

  it('enables SSH with public keys only for the admin user', () => {
    expect(existsSync(join(boot, 'ssh'))).toBe(true);
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/ssh.service'))).toBe(
      '/lib/systemd/system/ssh.service',
    );
    const sshd = read(join(root, 'etc/ssh/sshd_config.d/10-growoff.conf'));
    for (const line of [
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      'PubkeyAuthentication yes',
    ]) {
      expect(sshd).toMatch(new RegExp(`^${line}$`, 'm'));
    }
    expect(sshd).toMatch(/^AuthorizedKeysFile .ssh\/authorized_keys \/etc\/ssh\/authorized_keys\/%u$/m);
    expect(read(join(root, 'etc/ssh/authorized_keys/ops'))).toBe(read(join(config, 'authorized_keys')));
    expect(read(join(boot, 'userconf.txt'))).toBe('ops:*\n');
    expect(modeOf(join(boot, 'userconf.txt'))).toBe('600');
  });

  it('turns on I2C and 1-Wire under [all], keeping the other sections', () => {
    expect(read(join(boot, 'config.txt'))).toBe(
      '# For more options and information see\n# http://rptl.io/configtxt\n\ndtparam=i2c_arm=on\n#dtparam=i2s=on\n#dtparam=spi=on\n\ndtparam=audio=on\n\n[cm4]\notg_mode=1\n\n[pi4]\narm_boost=1\n[all]\ndtoverlay=w1-gpio\n',
    );
    expect(read(join(root, 'etc/modules'))).toBe(
      '# /etc/modules: kernel modules to load at boot time.\ni2c-dev\n',
    );
  });

  it('copies the installer whole into the image, where it runs again as it is and changes nothing', () => {
    const copied = join(root, 'opt/growoff/base/install.sh');
    expect(modeOf(join(root, 'opt/growoff/base/lib/install-lib.sh'))).toBe('644');
    const again = spawnSync('bash', [copied, '--root', root, '--config', config], { encoding: 'utf8' });
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe('0 changed\n');
    expect(again.status).toBe(0);
  });

  it('installs the base software into the root and a first-boot unit for Docker and the AWS CLI', () => {
    expect(read(join(root, 'etc/growoff/updater.env'))).toContain('GROWOFF_MODULE_ID=gw-os-0042\n');
    expect(modeOf(join(root, 'etc/growoff/secrets/aws-credentials'))).toBe('600');
    for (const unit of ['growoff-updater', 'growoff-firstboot']) {
      expect(
        readlinkSync(join(root, `etc/systemd/system/multi-user.target.wants/${unit}.service`)),
        unit,
      ).toBe(`/etc/systemd/system/${unit}.service`);
    }
    expect(read(join(root, 'usr/local/lib/growoff/firstboot.sh'))).toContain(
      'apt-get install -y --no-install-recommends docker.io awscli',
    );
    expect(modeOf(join(root, 'opt/growoff/base/install.sh'))).toBe('755');
    const units = readdirSync(join(root, 'etc/systemd/system'))
      .filter((f) => f.startsWith('growoff-'))
      .map((f) => join(root, 'etc/systemd/system', f));
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('changes nothing when run a second time, in either partition', () => {
    const before = snapshot(work);
    const again = run(boot, root, config);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('0 changed\n');
    expect(snapshot(work)).toEqual(before);
  });
});

describe('tools/os provision.sh on older releases and other trees', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'growoff-os-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('configures Wi-Fi with wpa_supplicant on bullseye', () => {
    const dir = mkdtempSync(join(work, 'bullseye-'));
    const { boot, root } = makeRaspberryPiOsTree(dir, 'bullseye');
    writeOsConfig(join(dir, 'config'), { WIFI_SSID: 'Greenhouse', WIFI_COUNTRY: 'NL' });
    const r = run(boot, root, join(dir, 'config'));
    expect(r.code).toBe(0);
    const conf = join(root, 'etc/wpa_supplicant/wpa_supplicant.conf');
    expect(modeOf(conf)).toBe('600');
    expect(read(conf)).toContain('country=NL\n');
    expect(read(conf)).toContain('\tssid="Greenhouse"\n\tpsk="grow-room-passphrase"\n');
    expect(existsSync(join(root, 'etc/NetworkManager'))).toBe(false);
    expect(read(join(root, 'var/lib/systemd/rfkill/platform-fe300000.mmcnr:wlan'))).toBe('0\n');
  });

  it('refuses a root that is not Raspberry Pi OS, saying what is missing, and leaves it untouched', () => {
    const dir = mkdtempSync(join(work, 'debian-'));
    const { boot, root } = makeRaspberryPiOsTree(dir, 'bookworm');
    rmSync(join(root, 'etc/rpi-issue'));
    writeOsConfig(join(dir, 'config'), {});
    const before = snapshot(dir);
    const r = run(boot, root, join(dir, 'config'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `provision.sh: '${root}' is not a Raspberry Pi OS root partition: /etc/rpi-issue is missing\n`,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses the root partition\'s /boot on bookworm, which holds only "moved to /boot/firmware" stubs, and leaves the tree untouched', () => {
    const dir = mkdtempSync(join(work, 'stub-'));
    const { root } = makeRaspberryPiOsTree(dir, 'bookworm');
    writeOsConfig(join(dir, 'config'), { WIFI_SSID: 'Greenhouse' });
    const before = snapshot(dir);
    const r = run(join(root, 'boot'), root, join(dir, 'config'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `provision.sh: OS_BOOT_STUB: '${root}/boot' holds only the "moved to /boot/firmware" stubs (config.txt): pass the boot partition itself, mounted at <root>/boot/firmware (the default without --boot) or on its own\n`,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('uses <root>/boot/firmware without --boot, where bookworm mounts the boot partition', () => {
    const dir = mkdtempSync(join(work, 'firmware-'));
    const { boot, root } = makeRaspberryPiOsTree(dir, 'bookworm');
    cpSync(boot, join(root, 'boot/firmware'), { recursive: true });
    writeOsConfig(join(dir, 'config'), { WIFI_SSID: 'Greenhouse', WIFI_COUNTRY: 'NL' });
    const stub = read(join(root, 'boot/config.txt'));
    const r = spawnSync('bash', [provision, '--root', root, '--config', join(dir, 'config')], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(read(join(root, 'boot/firmware/config.txt'))).toContain('\ndtparam=i2c_arm=on\n');
    expect(read(join(root, 'boot/firmware/cmdline.txt'))).toContain(' cfg80211.ieee80211_regdom=NL\n');
    expect(existsSync(join(root, 'boot/firmware/ssh'))).toBe(true);
    expect(read(join(root, 'boot/config.txt'))).toBe(stub);
  });

  it('refuses a boot folder without the firmware configuration', () => {
    const dir = mkdtempSync(join(work, 'noboot-'));
    const { boot, root } = makeRaspberryPiOsTree(dir, 'bookworm');
    rmSync(join(boot, 'config.txt'));
    writeOsConfig(join(dir, 'config'), {});
    const r = run(boot, root, join(dir, 'config'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `provision.sh: '${boot}' is not a Raspberry Pi OS boot partition: config.txt is missing\n`,
    );
  });
});
