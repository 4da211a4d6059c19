import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import type { ImageSettings } from './settings.ts';

/** The Dockerfile stage the service image is built from. */
export const serviceImageTarget = 'service';

/**
 * The Dockerfile's build arguments for the service image: VERSION, the image's
 * org.opencontainers.image.version label, is package.json's version (the one version number).
 */
export function imageBuildArgs(repoRoot: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { VERSION: pkg.version };
}

/** Whether the task pulls the image from ECR (the built asset or an ECR URI). */
export function pulledFromEcr(image: ecs.ContainerImage): boolean {
  return !(image instanceof ecs.RepositoryImage);
}

const ecrUri = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+))?$/;

/**
 * The service image: by default built from the repository Dockerfile (`cdk deploy` builds and
 * pushes it; `cdk synth` only stages the build context, offline), or a prebuilt image URI.
 */
export function containerImage(
  scope: Construct,
  settings: ImageSettings,
  repoRoot: string,
): ecs.ContainerImage {
  if (settings.kind === 'asset') {
    return ecs.ContainerImage.fromAsset(repoRoot, {
      file: 'Dockerfile',
      target: serviceImageTarget,
      buildArgs: imageBuildArgs(repoRoot),
      platform: Platform.LINUX_ARM64,
    });
  }
  const match = ecrUri.exec(settings.uri);
  if (match === null) return ecs.ContainerImage.fromRegistry(settings.uri);
  // A private ECR image: going through the repository grants the execution role the pull.
  const [, account, region, name = '', tag = 'latest'] = match;
  const repository = ecr.Repository.fromRepositoryAttributes(scope, 'ImageRepository', {
    repositoryName: name,
    repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${name}`,
  });
  return ecs.ContainerImage.fromEcrRepository(repository, tag);
}
