import { nowIso, type CliIo } from '../cli-io';
import { checklistItems, openItems, renderChecklist } from '../checklist';
import { EcrImages } from '../ecr-images';
import { describeApps, fleetContext, imagesOf, type StoreFlags } from '../fleet-context';
import { FleetError } from '../fleet-error';
import type { MqttSession } from '../mqtt-session';
import { draftOf, finalNameOf, percentOf, releaseNameOf, type ReleaseFlags } from '../release-source';
import { ReleaseStore, type Checklist, type StoredRelease } from '../release-store';
import { channelOf, modulesOf, pinModules, publishToChannel, type PublishResult } from './release-commands';

export type CandidateFlags = StoreFlags & ReleaseFlags & { module?: string; checklist?: string };

/**
 * candidate --name vX.Y.Z-rcN --module ID: signs the candidate (each app by version and digest),
 * pins it to the test module(s), records it with its commit (git tag vX.Y.Z-rcN) and opens its
 * pre-release checklist.
 */
export async function candidateCommand(
  io: CliIo,
  session: MqttSession,
  flags: CandidateFlags,
): Promise<PublishResult[]> {
  const modules = modulesOf(flags);
  const draft = draftOf(io, flags);
  const name = releaseNameOf(draft.name);
  finalNameOf(name);
  if (Object.keys(draft.apps).length === 0) {
    throw new FleetError(
      'FLEET_USAGE',
      'the candidate needs at least one app (--core-version V --core-image REPO@sha256:…)',
    );
  }
  const items = checklistItems(io, flags.checklist);
  const context = fleetContext(io, session, flags);
  const results = await pinModules(context, flags, { name, apps: draft.apps, notes: draft.notes }, modules);
  if (!context.store.checklist(name)) {
    context.store.saveChecklist({ release: name, items });
    io.out(
      `checklist of ${name} opened: ${items.length} items (npm run fleet -- checklist --release ${name})\n`,
    );
  }
  return results;
}

export type ChecklistFlags = StoreFlags & {
  release?: string;
  tick?: string;
  untick?: string;
  by?: string;
  note?: string;
};

/** checklist --release NAME [--tick ID[,ID]] [--untick ID] [--by WHO] [--note TEXT]: shows or fills it in. */
export function checklistCommand(io: CliIo, flags: ChecklistFlags): Checklist {
  const name = releaseNameOf(flags.release, '--release');
  const store = ReleaseStore.open(io, flags);
  const checklist = store.checklist(name);
  if (!checklist)
    throw new FleetError('FLEET_NO_RELEASE', `no checklist for ${name}: is it a candidate of this store?`);
  const by = flags.by ?? io.env.USER ?? 'release manager';
  const change = (ids: string | undefined, done: boolean) => {
    for (const id of ids?.split(',').map((s) => s.trim()) ?? []) {
      const item = checklist.items.find((i) => i.id === id);
      if (!item) {
        throw new FleetError(
          'FLEET_BAD_OPTION',
          `${name}'s checklist has no item '${id}' (items: ${checklist.items.map((i) => i.id).join(', ')})`,
        );
      }
      if (done) item.done = { by, at: nowIso(io), ...(flags.note ? { note: flags.note } : {}) };
      else delete item.done;
    }
  };
  change(flags.tick, true);
  change(flags.untick, false);
  if (flags.tick !== undefined || flags.untick !== undefined) store.saveChecklist(checklist);
  io.out(renderChecklist(checklist));
  return checklist;
}

export type PromoteFlags = StoreFlags & {
  release?: string;
  channel?: string;
  percent?: string;
  'no-ecr-tag'?: boolean;
};

/**
 * promote --release vX.Y.Z-rcN --channel C --percent P: the candidate's exact digests, re-signed
 * under vX.Y.Z (never rebuilt), once its checklist is complete. Each image gets the tag vX.Y.Z in
 * ECR (PutImage of its own manifest), the candidate's commit the git tag vX.Y.Z, and the channel
 * the release at P%.
 */
export async function promoteCommand(
  io: CliIo,
  session: MqttSession,
  flags: PromoteFlags,
): Promise<PublishResult> {
  const candidateName = releaseNameOf(flags.release, '--release');
  const finalName = finalNameOf(candidateName);
  const channel = channelOf(flags, true)!;
  if (flags.percent === undefined)
    throw new FleetError('FLEET_USAGE', 'say how far to roll it out (--percent 0..100)');
  const percent = percentOf(flags.percent);
  const context = fleetContext(io, session, flags);
  const candidate: StoredRelease | undefined = context.store.release(candidateName);
  if (!candidate)
    throw new FleetError('FLEET_NO_RELEASE', `the release store has no candidate ${candidateName}`);
  const checklist = context.store.checklist(candidateName);
  const open = checklist ? openItems(checklist) : [];
  if (!checklist || open.length > 0) {
    throw new FleetError(
      'FLEET_CHECKLIST_INCOMPLETE',
      checklist
        ? `${candidateName}'s checklist is not complete: ${open.map((i) => i.id).join(', ')} still open`
        : `${candidateName} has no checklist`,
    );
  }
  if (!flags['no-ecr-tag']) {
    const ecr = new EcrImages(io);
    try {
      for (const image of imagesOf(candidate.apps)) {
        const result = await ecr.tag(image, finalName);
        io.out(
          `ECR ${image.split('@')[0]}:${finalName} → ${image.split('@')[1]}${result === 'already' ? ' (already)' : ''}\n`,
        );
      }
    } finally {
      ecr.close();
    }
  }
  io.out(`promoting ${candidateName} as ${finalName}, the same images:\n${describeApps(candidate.apps)}\n`);
  return publishToChannel(
    context,
    { ...flags, 'no-git-tag': flags['no-git-tag'] || candidate.commit === undefined },
    {
      name: finalName,
      apps: candidate.apps,
      channel,
      percent,
      promotedFrom: candidateName,
      // The final release is the candidate's commit, not whatever is checked out now.
      commit: candidate.commit,
    },
  );
}
