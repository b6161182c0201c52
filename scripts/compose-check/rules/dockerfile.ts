import path from 'node:path';
import { configVariableNames } from '../../../src/config';
import type { CheckContext } from '../context';
import { dockerfileEnv, dockerfileName, finalStage, isPinnedImage, parseArgv } from '../dockerfile';
import { isDockerignored } from '../dockerignore';
import { apiFile, resolveProcess, serviceArgv } from '../processes';
import { suggestion } from '../suggestion';

const dockerfileEnvAllowed = new Set(['NODE_ENV', 'NODE_OPTIONS', 'PATH', 'TZ']);
// simulators: docker-compose.yml runs the payment gateway and the carrier from the same image.
const essentialPaths = [
  'package.json',
  'package-lock.json',
  'src',
  'simulators',
  'prisma',
  'prisma.config.ts',
  'scripts/prisma.ts',
];
const mustBeIgnored = ['node_modules', 'generated', 'data', '.git'];

/**
 * The Dockerfile, lightly: FROM comes first with a pinned image, COPY/ADD
 * sources exist in the build context and are not excluded by .dockerignore,
 * the default command starts the API, the final stage runs as a non-root
 * USER, its ENV names are variables the app reads, and .dockerignore keeps
 * host-built and state directories out.
 */
export function checkDockerfile(context: CheckContext): string[] {
  const { dockerfile } = context;
  if (!dockerfile) return [`${dockerfileName} does not exist`];
  const problems: string[] = [];
  const dockerignore = context.files.read('.dockerignore') ?? '';
  const first = dockerfile.instructions.find((instruction) => instruction.keyword !== 'ARG');
  if (!first || first.keyword !== 'FROM') {
    problems.push(`${dockerfileName}: the first instruction (after ARGs) must be FROM`);
  }
  const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));
  for (const stage of dockerfile.stages) {
    if (!stage.image) problems.push(`${dockerfileName}: a FROM without an image`);
    else if (!stageNames.has(stage.image) && !isPinnedImage(stage.image)) {
      problems.push(`${dockerfileName}: FROM ${stage.image} has no tag; pin one`);
    }
  }
  for (const instruction of dockerfile.instructions) {
    if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') continue;
    const words = parseArgv(instruction.text);
    if (words.some((word) => word.startsWith('--from='))) continue;
    const sources = words.filter((word) => !word.startsWith('--')).slice(0, -1);
    if (sources.length === 0) {
      problems.push(`${dockerfileName}:${instruction.line}: ${instruction.keyword} without a source`);
    }
    for (const source of sources) {
      if (/^https?:\/\//.test(source)) continue;
      const literal = source.split(/[*?[]/)[0] ?? '';
      const checked = path.posix.normalize(literal === source ? source : path.posix.dirname(`${literal}x`));
      if (!context.files.exists(checked)) {
        problems.push(`${dockerfileName}:${instruction.line}: ${instruction.keyword} source ${source} does not exist`);
      } else if (checked !== '.' && isDockerignored(dockerignore, checked)) {
        problems.push(`${dockerfileName}:${instruction.line}: ${source} is excluded by .dockerignore`);
      }
    }
  }
  const defaultArgv = serviceArgv({}, dockerfile);
  const defaultProcess = defaultArgv ? resolveProcess(defaultArgv, context) : 'there is no CMD';
  if (typeof defaultProcess === 'string') problems.push(`${dockerfileName}: default command: ${defaultProcess}`);
  else if (defaultProcess.role.kind !== 'api') {
    problems.push(
      `${dockerfileName}: the default command runs ${defaultProcess.file}; it should start the API (${apiFile})`,
    );
  }
  const user = finalStage(dockerfile, 'USER').at(-1)?.text.split(':')[0];
  if (user === undefined || user === 'root' || user === '0') {
    problems.push(`${dockerfileName}: the final stage runs as root; add a USER (node:20 images have "node")`);
  }
  for (const key of Object.keys(dockerfileEnv(dockerfile))) {
    if (!configVariableNames.includes(key) && !dockerfileEnvAllowed.has(key)) {
      problems.push(
        `${dockerfileName}: ENV ${key} is not a variable src/config.ts reads${suggestion(key, configVariableNames)}`,
      );
    }
  }
  if (dockerignore === '') {
    problems.push('.dockerignore does not exist: node_modules and generated/ from the host would enter the image');
  } else {
    for (const entry of essentialPaths.filter((entry) => isDockerignored(dockerignore, entry))) {
      problems.push(`.dockerignore excludes ${entry}, which the image needs`);
    }
    for (const entry of mustBeIgnored.filter((entry) => !isDockerignored(dockerignore, entry))) {
      problems.push(`.dockerignore does not exclude ${entry}/ (host-built or local state)`);
    }
  }
  return problems;
}
