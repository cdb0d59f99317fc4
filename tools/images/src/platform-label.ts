import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Sets the platform an image's config names (`linux/arm/v7` → os, architecture, variant) when it
 * differs. Docker's legacy builder (no buildx here) builds FROM an arm base image correctly but
 * records the engine's own platform, and refuses `--platform` for a multi-stage build; the layers are
 * the target's, so only the config is rewritten (docker save, edit, docker load).
 */
export function labelPlatform(tag: string, platform: string, env: NodeJS.ProcessEnv): void {
  const inspect = (format: string) =>
    execFileSync('docker', ['image', 'inspect', '--format', format, tag], { env, encoding: 'utf8' }).trim();
  if (inspect('{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}') === platform) return;
  const [os, architecture, variant] = platform.split('/');
  const dir = mkdtempSync(join(tmpdir(), 'growoff-platform-'));
  try {
    execFileSync('docker', ['save', '--output', join(dir, 'image.tar'), tag], { env });
    execFileSync('tar', ['-xf', 'image.tar'], { cwd: dir });
    rmSync(join(dir, 'image.tar'));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Config: string }[];
    const config = JSON.parse(readFileSync(join(dir, manifest[0]!.Config), 'utf8')) as Record<
      string,
      unknown
    >;
    const relabelled = JSON.stringify({ ...config, os, architecture, ...(variant ? { variant } : {}) });
    const name = `${createHash('sha256').update(relabelled).digest('hex')}.json`;
    rmSync(join(dir, manifest[0]!.Config));
    writeFileSync(join(dir, name), relabelled);
    manifest[0]!.Config = name;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    for (const oci of ['index.json', 'oci-layout']) rmSync(join(dir, oci), { force: true });
    execFileSync('sh', ['-c', 'tar -c . | docker load --quiet'], { cwd: dir, env, stdio: 'ignore' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
