import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  LayersNotFoundException,
  PutImageCommand,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcrStandin, type EcrStandin } from '../src';
import { RegistryFixture, type PushedImage } from './registry-fixture';

const fixture = new RegistryFixture();
let standin: EcrStandin;
let ecr: ECRClient;
let v1: PushedImage;
let v2: PushedImage;

beforeAll(async () => {
  fixture.login();
  [v1] = fixture.push(['1.0.0', 'stable'], 2048) as [PushedImage];
  [v2] = fixture.push(['2.0.0'], 4096) as [PushedImage];
  standin = await startEcrStandin({ registry: fixture.registry, tokenTtlSeconds: 2 });
  ecr = new ECRClient({
    endpoint: standin.url,
    region: 'eu-central-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
}, 120_000);

afterAll(async () => {
  ecr?.destroy();
  await standin?.close();
  await fixture.cleanup();
});

async function blobSize(digest: string): Promise<number> {
  const response = await fetch(`${fixture.registry.url}/v2/${fixture.repository}/blobs/${digest}`, {
    method: 'HEAD',
    headers: { authorization: fixture.authorization() },
  });
  return Number(response.headers.get('content-length'));
}

describe('GetAuthorizationToken', () => {
  it("issues the registry's htpasswd credential, its URL and a short expiry", async () => {
    const before = standin.stats().tokensIssued;
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = authorizationData![0]!;
    expect(Buffer.from(data.authorizationToken!, 'base64').toString()).toBe(
      `${fixture.registry.username}:${fixture.registry.password}`,
    );
    expect(data.proxyEndpoint).toBe(fixture.registry.url);
    expect(data.expiresAt!.getTime() - Date.now()).toBeGreaterThan(0);
    expect(data.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(2_000);
    expect(standin.stats().tokensIssued).toBe(before + 1);
  });

  it('gives a token the registry accepts', async () => {
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    const response = await fetch(`${fixture.registry.url}/v2/`, {
      headers: { authorization: `Basic ${authorizationData![0]!.authorizationToken}` },
    });
    expect(response.status).toBe(200);
  });

  it('counts every renewal and moves the expiry forward', async () => {
    const first = await ecr.send(new GetAuthorizationTokenCommand({}));
    const issued = standin.stats().tokensIssued;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await ecr.send(new GetAuthorizationTokenCommand({}));
    expect(standin.stats().tokensIssued).toBe(issued + 1);
    expect(second.authorizationData![0]!.expiresAt!.getTime()).toBeGreaterThan(
      first.authorizationData![0]!.expiresAt!.getTime(),
    );
  });
});

describe('DescribeImages', () => {
  it("lists the repository's images with their tags, digests and layer sizes", async () => {
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: fixture.repository }),
    );
    const byDigest = new Map(imageDetails!.map((d) => [d.imageDigest, d]));
    expect(byDigest.size).toBe(2);
    expect(byDigest.get(v1.digest)?.imageTags?.sort()).toEqual(['1.0.0', 'stable']);
    expect(byDigest.get(v2.digest)?.imageTags).toEqual(['2.0.0']);
    expect(byDigest.get(v1.digest)?.registryId).toBe(standin.registryId);
    expect(byDigest.get(v1.digest)?.imageManifestMediaType).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    );

    const { images } = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: fixture.repository,
        imageIds: [{ imageDigest: v2.digest }],
      }),
    );
    const manifest = JSON.parse(images![0]!.imageManifest!) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    const sizes = await Promise.all(blobs.map(blobSize));
    expect(byDigest.get(v2.digest)?.imageSizeInBytes).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(byDigest.get(v2.digest)!.imageSizeInBytes!).toBeGreaterThan(4096);
  });

  it('finds an image by tag and by digest', async () => {
    const byTag = await ecr.send(
      new DescribeImagesCommand({ repositoryName: fixture.repository, imageIds: [{ imageTag: 'stable' }] }),
    );
    expect(byTag.imageDetails!.map((d) => d.imageDigest)).toEqual([v1.digest]);
    const byDigest = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: fixture.repository,
        imageIds: [{ imageDigest: v2.digest }],
      }),
    );
    expect(byDigest.imageDetails![0]!.imageTags).toEqual(['2.0.0']);
  });

  it('pages with maxResults and nextToken', async () => {
    const first = await ecr.send(
      new DescribeImagesCommand({ repositoryName: fixture.repository, maxResults: 1 }),
    );
    expect(first.imageDetails).toHaveLength(1);
    expect(first.nextToken).toBeDefined();
    const second = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: fixture.repository,
        maxResults: 1,
        nextToken: first.nextToken,
      }),
    );
    expect(second.imageDetails).toHaveLength(1);
    expect(second.nextToken).toBeUndefined();
    expect(second.imageDetails![0]!.imageDigest).not.toBe(first.imageDetails![0]!.imageDigest);
  });

  it('lists the tagged images for the TAGGED filter and none for UNTAGGED', async () => {
    const tagged = await ecr.send(
      new DescribeImagesCommand({ repositoryName: fixture.repository, filter: { tagStatus: 'TAGGED' } }),
    );
    expect(tagged.imageDetails).toHaveLength(2);
    const untagged = await ecr.send(
      new DescribeImagesCommand({ repositoryName: fixture.repository, filter: { tagStatus: 'UNTAGGED' } }),
    );
    expect(untagged.imageDetails).toEqual([]);
  });

  it('throws ImageNotFoundException for an unknown tag', async () => {
    await expect(
      ecr.send(
        new DescribeImagesCommand({ repositoryName: fixture.repository, imageIds: [{ imageTag: 'nope' }] }),
      ),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
  });

  it('throws RepositoryNotFoundException for an unknown repository', async () => {
    await expect(
      ecr.send(new DescribeImagesCommand({ repositoryName: `${fixture.repository}-missing` })),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });
});

describe('BatchGetImage', () => {
  it('returns the manifest bytes whose sha256 is the digest, by tag', async () => {
    const { images, failures } = await ecr.send(
      new BatchGetImageCommand({ repositoryName: fixture.repository, imageIds: [{ imageTag: '1.0.0' }] }),
    );
    expect(failures).toEqual([]);
    const image = images![0]!;
    expect(image.imageId).toEqual({ imageDigest: v1.digest, imageTag: '1.0.0' });
    const digest = `sha256:${createHash('sha256').update(image.imageManifest!).digest('hex')}`;
    expect(digest).toBe(v1.digest);
  });

  it('reports missing images and tag/digest mismatches as failures', async () => {
    const { images, failures } = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: fixture.repository,
        imageIds: [
          { imageTag: 'missing' },
          { imageTag: '2.0.0', imageDigest: v1.digest },
          { imageTag: '2.0.0' },
        ],
      }),
    );
    expect(images!.map((i) => i.imageId?.imageDigest)).toEqual([v2.digest]);
    expect(failures!.map((f) => f.failureCode)).toEqual(['ImageNotFound', 'ImageTagDoesNotMatchDigest']);
  });
});

/** The manifest bytes of an image, as BatchGetImage returns them. */
async function manifestOf(imageTag: string): Promise<{ body: string; mediaType: string }> {
  const { images } = await ecr.send(
    new BatchGetImageCommand({ repositoryName: fixture.repository, imageIds: [{ imageTag }] }),
  );
  return { body: images![0]!.imageManifest!, mediaType: images![0]!.imageManifestMediaType! };
}

async function tagsOf(digest: string): Promise<string[] | undefined> {
  const { imageDetails } = await ecr.send(
    new DescribeImagesCommand({ repositoryName: fixture.repository, imageIds: [{ imageDigest: digest }] }),
  );
  return imageDetails![0]!.imageTags?.sort();
}

describe('PutImage', () => {
  it('tags a pushed image with a new tag, the same manifest bytes and digest', async () => {
    const { body } = await manifestOf('2.0.0');
    const { image } = await ecr.send(
      new PutImageCommand({
        repositoryName: fixture.repository,
        imageManifest: body,
        imageTag: '2.0.0-final',
      }),
    );
    expect(image!.imageId).toEqual({ imageDigest: v2.digest, imageTag: '2.0.0-final' });
    expect(await tagsOf(v2.digest)).toEqual(['2.0.0', '2.0.0-final']);
    // The registry itself serves the new tag with the same bytes.
    const response = await fetch(`${fixture.registry.url}/v2/${fixture.repository}/manifests/2.0.0-final`, {
      headers: { authorization: fixture.authorization(), accept: (await manifestOf('2.0.0')).mediaType },
    });
    expect(response.headers.get('docker-content-digest')).toBe(v2.digest);
    expect(await response.text()).toBe(body);
  });

  it('refuses an unchanged tag with ImageAlreadyExistsException, and a wrong digest', async () => {
    const { body } = await manifestOf('1.0.0');
    await expect(
      ecr.send(
        new PutImageCommand({ repositoryName: fixture.repository, imageManifest: body, imageTag: 'stable' }),
      ),
    ).rejects.toBeInstanceOf(ImageAlreadyExistsException);
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: fixture.repository,
          imageManifest: body,
          imageTag: 'other',
          imageDigest: v2.digest,
        }),
      ),
    ).rejects.toBeInstanceOf(ImageDigestDoesNotMatchException);
    expect(await tagsOf(v1.digest)).toEqual(['1.0.0', 'stable']);
  });

  it('refuses a manifest whose layers the repository does not hold, and a bad tag', async () => {
    const { body } = await manifestOf('1.0.0');
    const forged = body.replace(/sha256:[a-f0-9]{64}/, `sha256:${'0'.repeat(64)}`);
    await expect(
      ecr.send(
        new PutImageCommand({ repositoryName: fixture.repository, imageManifest: forged, imageTag: 'x' }),
      ),
    ).rejects.toBeInstanceOf(LayersNotFoundException);
    const bad = await ecr
      .send(new PutImageCommand({ repositoryName: fixture.repository, imageManifest: body, imageTag: 'a/b' }))
      .catch((error: { name: string }) => error.name);
    expect(bad).toBe('InvalidParameterException');
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: `${fixture.repository}-missing`,
          imageManifest: body,
          imageTag: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });
});

describe('BatchDeleteImage', () => {
  it('removes one tag and keeps the image under its other tags', async () => {
    const [image] = fixture.push(['3.0.0', '3.0.0-rc1'], 1024) as [PushedImage];
    const { imageIds, failures } = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: fixture.repository,
        imageIds: [{ imageTag: '3.0.0-rc1' }],
      }),
    );
    expect(failures).toEqual([]);
    expect(imageIds).toEqual([{ imageDigest: image.digest, imageTag: '3.0.0-rc1' }]);
    expect(await tagsOf(image.digest)).toEqual(['3.0.0']);
    expect((await manifestOf('3.0.0')).body).toBeTruthy();
  });

  it('deletes an image with all its tags by digest, and reports unknown ones as failures', async () => {
    const [image] = fixture.push(['4.0.0', '4.0.0-rc1'], 1024) as [PushedImage];
    const { imageIds, failures } = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: fixture.repository,
        imageIds: [{ imageDigest: image.digest }, { imageTag: 'never-pushed' }],
      }),
    );
    expect(imageIds).toEqual([
      { imageDigest: image.digest, imageTag: '4.0.0' },
      { imageDigest: image.digest, imageTag: '4.0.0-rc1' },
    ]);
    expect(failures!.map((f) => f.failureCode)).toEqual(['ImageNotFound']);
    await expect(
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: fixture.repository,
          imageIds: [{ imageDigest: image.digest }],
        }),
      ),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
    // The other images are untouched.
    expect(await tagsOf(v1.digest)).toEqual(['1.0.0', 'stable']);
  });
});

describe('the wire protocol', () => {
  it('refuses a request without a SigV4 Authorization header', async () => {
    const response = await fetch(standin.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
      },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });

  it('answers an unsupported action with UnknownOperationException', async () => {
    const response = await fetch(standin.url, {
      method: 'POST',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=x',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository',
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(standin.stats().requests.DeleteRepository).toBe(1);
  });
});
