import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  ECRClient,
  ImageAlreadyExistsException,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import type { CliIo } from './cli-io';
import { FleetError } from './fleet-error';

/** `host/repository@sha256:…` split the way ECR names it. */
export interface ImageRef {
  /** The AWS account of an ECR host (`123456789012.dkr.ecr.…`), else undefined (the default registry). */
  registryId?: string;
  repositoryName: string;
  digest: string;
}

export function imageRefOf(image: string): ImageRef {
  const match = /^([^/@]+)\/([^@]+)@(sha256:[a-f0-9]{64})$/.exec(image);
  if (!match)
    throw new FleetError('FLEET_BAD_OPTION', `'${image}' is not an image by digest (host/repo@sha256:…)`);
  const account = /^(\d{12})\.dkr\.ecr\./.exec(match[1]!)?.[1];
  return { registryId: account, repositoryName: match[2]!, digest: match[3]! };
}

/**
 * The release's images in ECR, through @aws-sdk/client-ecr: GROWOFF_ECR_ENDPOINT (unset: AWS),
 * AWS_REGION and the standard AWS credential chain, as the updater reads them.
 */
export class EcrImages {
  private readonly client: ECRClient;

  constructor(io: CliIo) {
    this.client = new ECRClient({
      region: io.env.AWS_REGION ?? 'eu-central-1',
      endpoint: io.env.GROWOFF_ECR_ENDPOINT || undefined,
      maxAttempts: 2,
      // The SDK's chain reads process.env; credentials given in the command's environment come first.
      ...(io.env.AWS_ACCESS_KEY_ID && io.env.AWS_SECRET_ACCESS_KEY
        ? {
            credentials: {
              accessKeyId: io.env.AWS_ACCESS_KEY_ID,
              secretAccessKey: io.env.AWS_SECRET_ACCESS_KEY,
              sessionToken: io.env.AWS_SESSION_TOKEN,
            },
          }
        : {}),
    });
  }

  /**
   * Gives the image another tag by PutImage of its own manifest bytes (never a rebuild: the digest
   * stays). An image that already has the tag is fine; a tag that ECR refuses is FLEET_ECR.
   */
  async tag(image: string, tag: string): Promise<'tagged' | 'already'> {
    const ref = imageRefOf(image);
    const got = await this.call('BatchGetImage', () =>
      this.client.send(
        new BatchGetImageCommand({
          registryId: ref.registryId,
          repositoryName: ref.repositoryName,
          imageIds: [{ imageDigest: ref.digest }],
        }),
      ),
    );
    const manifest = got.images?.[0];
    if (!manifest?.imageManifest) {
      throw new FleetError(
        'FLEET_ECR',
        `${image} is not in ECR (${got.failures?.[0]?.failureReason ?? 'no manifest'})`,
      );
    }
    try {
      await this.client.send(
        new PutImageCommand({
          registryId: ref.registryId,
          repositoryName: ref.repositoryName,
          imageManifest: manifest.imageManifest,
          imageManifestMediaType: manifest.imageManifestMediaType,
          imageDigest: ref.digest,
          imageTag: tag,
        }),
      );
      return 'tagged';
    } catch (error) {
      if (error instanceof ImageAlreadyExistsException) return 'already';
      throw new FleetError('FLEET_ECR', `ECR PutImage of ${image} as '${tag}': ${(error as Error).message}`);
    }
  }

  /** Deletes the image (all its tags) by digest; one that is already gone is fine. */
  async delete(image: string): Promise<'deleted' | 'absent'> {
    const ref = imageRefOf(image);
    const result = await this.call('BatchDeleteImage', () =>
      this.client.send(
        new BatchDeleteImageCommand({
          registryId: ref.registryId,
          repositoryName: ref.repositoryName,
          imageIds: [{ imageDigest: ref.digest }],
        }),
      ),
    );
    const failure = result.failures?.[0];
    if (!failure) return 'deleted';
    if (failure.failureCode === 'ImageNotFound') return 'absent';
    throw new FleetError(
      'FLEET_ECR',
      `ECR BatchDeleteImage of ${image}: ${failure.failureCode} ${failure.failureReason ?? ''}`,
    );
  }

  close(): void {
    this.client.destroy();
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new FleetError('FLEET_ECR', `ECR ${action}: ${(error as Error).message}`);
    }
  }
}
