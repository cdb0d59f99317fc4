import { createHash } from 'node:crypto';
import { CodedError, ERROR_REGISTRY } from '@growoff/protocol';
import { RegistryClient, RegistryNotFound, type Manifest } from './registry-client';

/** The ECR exceptions the stand-in raises, by ECR's own names (each in the error registry). */
export type EcrExceptionType =
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'SerializationException'
  | 'InvalidParameterException'
  | 'RepositoryNotFoundException'
  | 'ImageNotFoundException'
  | 'ImageAlreadyExistsException'
  | 'ImageDigestDoesNotMatchException'
  | 'LayersNotFoundException'
  | 'ServerException';

/**
 * An ECR service exception as the JSON protocol carries it (`__type` + message, HTTP 4xx/5xx);
 * the status is the registry's unless the call names another (ECR answers some with 404).
 */
export class EcrException extends CodedError<EcrExceptionType> {
  override readonly name = 'EcrException';
  readonly status: number;

  constructor(type: EcrExceptionType, message: string, status?: number) {
    super(type, message);
    this.status = status ?? ERROR_REGISTRY[type].status;
  }

  get type(): EcrExceptionType {
    return this.code;
  }
}

interface ImageIdentifier {
  imageDigest?: string;
  imageTag?: string;
}

interface RepositoryRequest {
  registryId?: string;
  repositoryName?: string;
}

export interface DescribeImagesRequest extends RepositoryRequest {
  imageIds?: ImageIdentifier[];
  filter?: { tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY' };
  nextToken?: string;
  maxResults?: number;
}

export interface BatchGetImageRequest extends RepositoryRequest {
  imageIds?: ImageIdentifier[];
  acceptedMediaTypes?: string[];
}

export interface PutImageRequest extends RepositoryRequest {
  imageManifest?: string;
  imageManifestMediaType?: string;
  imageTag?: string;
  imageDigest?: string;
}

export interface BatchDeleteImageRequest extends RepositoryRequest {
  imageIds?: ImageIdentifier[];
}

/** A tag as both ECR (1..300 characters) and the registry API (its reference grammar) accept it. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** ECR's limit on imageIds per batch call. */
const MAX_BATCH = 100;

export interface EcrApiOptions {
  registry: RegistryClient;
  registryId: string;
  username: string;
  password: string;
  proxyEndpoint: string;
  tokenTtlSeconds: number;
  now: () => number;
}

/** The three ECR actions, answered from the real registry's /v2 API. */
export class EcrApi {
  constructor(private readonly o: EcrApiOptions) {}

  /** ECR's token is base64("AWS:<password>"); ours carries the registry's htpasswd credential. */
  getAuthorizationToken() {
    return {
      authorizationData: [
        {
          authorizationToken: Buffer.from(`${this.o.username}:${this.o.password}`).toString('base64'),
          expiresAt: (this.o.now() + this.o.tokenTtlSeconds * 1000) / 1000,
          proxyEndpoint: this.o.proxyEndpoint,
        },
      ],
    };
  }

  async describeImages(request: DescribeImagesRequest) {
    const repository = this.repositoryOf(request);
    const byDigest = await this.taggedImages(repository);
    let images: { manifest: Manifest; tags: string[] }[];
    if (request.imageIds && request.imageIds.length > 0) {
      images = [];
      for (const id of request.imageIds) {
        const manifest = await this.resolve(repository, id);
        if (typeof manifest === 'string') {
          throw new EcrException(
            'ImageNotFoundException',
            `The image with imageId ${describeId(id)} does not exist within the repository with name '${repository}' in the registry with id '${this.o.registryId}'`,
          );
        }
        if (!images.some((i) => i.manifest.digest === manifest.digest)) {
          images.push({ manifest, tags: byDigest.get(manifest.digest)?.tags ?? [] });
        }
      }
    } else {
      // The registry API can only reach images through their tags, so none is ever UNTAGGED here.
      images = request.filter?.tagStatus === 'UNTAGGED' ? [] : [...byDigest.values()];
    }
    const start = request.nextToken ? Number(request.nextToken) : 0;
    if (!Number.isInteger(start) || start < 0) {
      throw new EcrException('InvalidParameterException', 'Invalid parameter at nextToken');
    }
    const end = start + (request.maxResults ?? 100);
    return {
      imageDetails: images.slice(start, end).map(({ manifest, tags }) => ({
        registryId: this.o.registryId,
        repositoryName: repository,
        imageDigest: manifest.digest,
        imageTags: tags.length > 0 ? tags : undefined,
        imageSizeInBytes: manifest.sizeInBytes,
        imageManifestMediaType: manifest.mediaType,
      })),
      nextToken: end < images.length ? String(end) : undefined,
    };
  }

  async batchGetImage(request: BatchGetImageRequest) {
    const repository = this.repositoryOf(request);
    if (!request.imageIds || request.imageIds.length === 0) {
      throw new EcrException('InvalidParameterException', 'imageIds must contain at least 1 element');
    }
    // A missing repository is an exception, a missing image a failure entry, as in ECR.
    await this.o.registry.tags(repository).catch((error: unknown) => {
      throw this.translate(error, repository);
    });
    const images = [];
    const failures = [];
    for (const id of request.imageIds) {
      const manifest = await this.resolve(repository, id);
      if (typeof manifest === 'string') {
        failures.push({ imageId: id, failureCode: manifest, failureReason: failureReason(manifest) });
        continue;
      }
      images.push({
        registryId: this.o.registryId,
        repositoryName: repository,
        imageId: { imageDigest: manifest.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: manifest.body,
        imageManifestMediaType: manifest.mediaType,
      });
    }
    return { images, failures };
  }

  /**
   * PutImage: stores a manifest (here: gives an image that is already pushed another tag, the
   * manifest bytes unchanged, so the digest stays the same). ECR's checks, in ECR's words: the
   * digest must match the bytes, the layers must be there, and an unchanged tag is
   * ImageAlreadyExistsException.
   */
  async putImage(request: PutImageRequest) {
    const repository = this.repositoryOf(request);
    const body = request.imageManifest;
    if (typeof body !== 'string' || body.length === 0 || body.length > 4_194_304) {
      throw new EcrException('InvalidParameterException', `Invalid parameter at 'imageManifest'`);
    }
    const tag = request.imageTag;
    if (tag !== undefined && !TAG.test(tag)) {
      throw new EcrException('InvalidParameterException', `Invalid parameter at 'imageTag'`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new EcrException('InvalidParameterException', 'Invalid parameter at imageManifest: not JSON');
    }
    const declared = (parsed as { mediaType?: unknown } | null)?.mediaType;
    const mediaType = typeof declared === 'string' ? declared : request.imageManifestMediaType;
    if (!mediaType) {
      throw new EcrException(
        'InvalidParameterException',
        'Invalid parameter at imageManifestMediaType: the manifest has no mediaType, so the request must give one',
      );
    }
    const digest = `sha256:${createHash('sha256').update(body, 'utf8').digest('hex')}`;
    if (request.imageDigest !== undefined && request.imageDigest !== digest) {
      throw new EcrException(
        'ImageDigestDoesNotMatchException',
        `Provided image digest '${request.imageDigest}' does not match the calculated image digest '${digest}'`,
      );
    }
    // The registry would create a repository on the fly; ECR's must exist.
    await this.o.registry.tags(repository).catch((error: unknown) => {
      throw this.translate(error, repository);
    });
    const existing = await this.o.registry.manifest(repository, tag ?? digest);
    if (existing?.digest === digest) {
      throw new EcrException(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}'${tag ? ` and tag '${tag}'` : ''} already exists in the repository with name '${repository}' in registry with id '${this.o.registryId}'`,
      );
    }
    try {
      await this.o.registry.putManifest(repository, tag ?? digest, body, mediaType);
    } catch (error) {
      throw this.translate(error, repository);
    }
    return {
      image: {
        registryId: this.o.registryId,
        repositoryName: repository,
        imageId: { imageDigest: digest, ...(tag ? { imageTag: tag } : {}) },
        imageManifest: body,
        imageManifestMediaType: mediaType,
      },
    };
  }

  /**
   * BatchDeleteImage: by digest, the image and all its tags go; by tag, only that tag, and the
   * image with it when it was its last tag. Failures per id, as ECR reports them.
   */
  async batchDeleteImage(request: BatchDeleteImageRequest) {
    const repository = this.repositoryOf(request);
    const ids = request.imageIds;
    if (!ids || ids.length === 0 || ids.length > MAX_BATCH) {
      throw new EcrException(
        'InvalidParameterException',
        `imageIds must contain between 1 and ${MAX_BATCH} elements`,
      );
    }
    const byDigest = await this.taggedImages(repository);
    const imageIds: ImageIdentifier[] = [];
    const failures = [];
    for (const id of ids) {
      const manifest = await this.resolve(repository, id);
      if (typeof manifest === 'string') {
        failures.push({ imageId: id, failureCode: manifest, failureReason: failureReason(manifest) });
        continue;
      }
      const tags = byDigest.get(manifest.digest)?.tags ?? [];
      await this.o.registry.deleteManifest(repository, manifest.digest);
      if (id.imageDigest) {
        // The whole image: every tag it had goes with it.
        byDigest.delete(manifest.digest);
        if (tags.length === 0) imageIds.push({ imageDigest: manifest.digest });
        for (const t of tags) imageIds.push({ imageDigest: manifest.digest, imageTag: t });
        continue;
      }
      // One tag: the registry cannot untag, so the image goes and comes back under its other tags
      // (the same manifest bytes; the blobs stay).
      const rest = tags.filter((t) => t !== id.imageTag);
      for (const t of rest) {
        await this.o.registry.putManifest(repository, t, manifest.body, manifest.mediaType);
      }
      if (rest.length === 0) byDigest.delete(manifest.digest);
      else byDigest.set(manifest.digest, { manifest, tags: rest });
      imageIds.push({ imageDigest: manifest.digest, imageTag: id.imageTag });
    }
    return { imageIds, failures };
  }

  private repositoryOf(request: RepositoryRequest): string {
    if (request.registryId !== undefined && request.registryId !== this.o.registryId) {
      throw new EcrException(
        'InvalidParameterException',
        `Invalid parameter at 'registryId': this registry's id is ${this.o.registryId}`,
      );
    }
    const name = request.repositoryName;
    if (!name || !/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) {
      throw new EcrException('InvalidParameterException', `Invalid parameter at 'repositoryName'`);
    }
    return name;
  }

  /** Tagged images of a repository, grouped by digest (the registry API cannot list untagged ones). */
  private async taggedImages(
    repository: string,
  ): Promise<Map<string, { manifest: Manifest; tags: string[] }>> {
    let tags: string[];
    try {
      tags = await this.o.registry.tags(repository);
    } catch (error) {
      throw this.translate(error, repository);
    }
    const byDigest = new Map<string, { manifest: Manifest; tags: string[] }>();
    for (const tag of tags.sort()) {
      const manifest = await this.o.registry.manifest(repository, tag);
      if (!manifest) continue;
      const entry = byDigest.get(manifest.digest) ?? { manifest, tags: [] };
      entry.tags.push(tag);
      byDigest.set(manifest.digest, entry);
    }
    return byDigest;
  }

  /** The manifest an image id names, or ECR's failure code. */
  private async resolve(
    repository: string,
    id: ImageIdentifier,
  ): Promise<Manifest | 'MissingDigestAndTag' | 'ImageNotFound' | 'ImageTagDoesNotMatchDigest'> {
    if (!id.imageDigest && !id.imageTag) return 'MissingDigestAndTag';
    const reference = id.imageDigest ?? id.imageTag!;
    const manifest = await this.o.registry.manifest(repository, reference);
    if (!manifest) return 'ImageNotFound';
    if (id.imageDigest && id.imageTag) {
      const tagged = await this.o.registry.manifest(repository, id.imageTag);
      if (!tagged) return 'ImageNotFound';
      if (tagged.digest !== manifest.digest) return 'ImageTagDoesNotMatchDigest';
    }
    return manifest;
  }

  private translate(error: unknown, repository: string): Error {
    if (error instanceof RegistryNotFound && error.what === 'blob') {
      return new EcrException(
        'LayersNotFoundException',
        `The manifest references layers that do not exist in the repository with name '${repository}'`,
      );
    }
    if (error instanceof RegistryNotFound) {
      return new EcrException(
        'RepositoryNotFoundException',
        `The repository with name '${repository}' does not exist in the registry with id '${this.o.registryId}'`,
      );
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function describeId(id: ImageIdentifier): string {
  return `'${JSON.stringify(id)}'`;
}

function failureReason(code: string): string {
  switch (code) {
    case 'MissingDigestAndTag':
      return 'Requested image has neither digest nor tag';
    case 'ImageTagDoesNotMatchDigest':
      return 'Requested image tag does not match the digest';
    default:
      return 'Requested image not found';
  }
}
