import { readFileSync } from 'node:fs';
import { codedError } from '@growoff/protocol';

/**
 * The floor the base installer wrote (`install.sh --release-floor N`): the lowest fleet document
 * sequence this module accepts, so a new or reset module refuses every older signed document.
 * A missing file is no floor (1); a file that is not a whole number is refused, since guessing
 * would reopen replay.
 */
export function readReleaseFloor(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 1;
    throw codedError('CONFIG_INVALID', `GROWOFF_RELEASE_FLOOR_FILE ${path} cannot be read`, { path });
  }
  const trimmed = text.trim();
  if (!/^[1-9]\d{0,14}$/.test(trimmed)) {
    throw codedError(
      'CONFIG_INVALID',
      `GROWOFF_RELEASE_FLOOR_FILE ${path} must hold one whole number >= 1 (the installer's release floor)`,
      { path },
    );
  }
  return Number(trimmed);
}
