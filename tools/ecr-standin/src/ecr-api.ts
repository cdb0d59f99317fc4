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
