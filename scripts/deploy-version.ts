/**
 * Promotes and retires versions of the orders worker's deployment (Worker Deployment Versioning, docs/VERSIONING.md).
 *
 *   npm run deploy:version -- status                       # current and ramping build, every version and its drainage
 *   npm run deploy:version -- set-current <buildId> [--wait 60s]
 *                                                          # new orders start on this build; open ones stay on theirs
 *   npm run deploy:version -- ramp <buildId> <percent>     # that share of new orders start on the build
 *   npm run deploy:version -- ramp --off                   # no ramping build: new orders start on the current one
 *   npm run deploy:version -- retire <buildId> [--wait 30m]
 *                                                          # deletes a drained build whose workers are gone
 *
 * Talks to the Temporal the configuration names (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, or a
 * TEMPORAL_PROFILE: src/temporal/connection.ts), in the deployment
 * TEMPORAL_WORKER_DEPLOYMENT_NAME names (default order-saga) unless --deployment says otherwise.
 * Exits 0 on success, 1 when Temporal refuses or cannot be reached (said why), 2 on a usage or configuration error.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';
import { ConfigError, loadConfig } from '../src/config';
import { connectClient } from '../src/temporal/connection';

const usage = `Usage: npm run deploy:version -- <command> [options]

Commands:
  status                      the deployment's current and ramping build, and each version's status and drainage
  set-current <buildId>       make the build current: new orders start on it, open ones stay on the build they started on
  ramp <buildId> <percent>    start that percentage of new orders on the build (the rest on the current one)
  ramp --off                  stop ramping
  retire <buildId>            delete a version that no open order is pinned to any more, once its workers have stopped

Options:
  --deployment <name>         the worker deployment (default: TEMPORAL_WORKER_DEPLOYMENT_NAME, else order-saga)
  --wait <duration>           wait up to this long (e.g. 90s, 30m): set-current and ramp for the build's workers to
                              poll, retire for its orders to drain and its workers to go
  --off                       ramp only: remove the ramping build
  --help                      show this help

Exit status: 0 done, 1 Temporal refused or could not be reached, 2 usage or configuration error.`;

/** How long one deletion may take before the attempt counts as "not yet". */
const deleteDeadlineMs = 10_000;
/** gRPC's DEADLINE_EXCEEDED (a number fixed by the gRPC specification). */
const grpcDeadlineExceeded = 4;

/** A mistake in how the command was run: exit status 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** Temporal refused the change, or the version is not ready for it: exit status 1. */
class RefusedError extends Error {
  override name = 'RefusedError';
}

type Command =
  | { name: 'status' }
  | { name: 'set-current'; buildId: string; waitMs: number }
  | { name: 'ramp'; buildId: string; percent: number; waitMs: number }
  | { name: 'retire'; buildId: string; waitMs: number };

function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) throw new UsageError(`--wait ${text}: a duration such as 90s, 30m or 1h`);
  const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unitMs;
}

function parseCommand(argv: string[]): { command: Command; deployment?: string } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        deployment: { type: 'string' },
        wait: { type: 'string' },
        off: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [name, ...rest] = positionals;
  const takes = (count: number) => {
    if (rest.length !== count) throw new UsageError(`${name} takes ${count === 0 ? 'no' : count} argument(s)`);
  };
  if (values.wait !== undefined && name === 'status') throw new UsageError('status takes no --wait');
  const waitMs = values.wait === undefined ? 0 : parseDuration(values.wait);
  if (values.off && name !== 'ramp') throw new UsageError('--off goes with ramp only');
  const deployment = values.deployment;
  const command = ((): Command => {
    switch (name) {
      case 'status':
        takes(0);
        return { name };
      case 'set-current':
        takes(1);
        return { name, buildId: rest[0] ?? '', waitMs };
      case 'ramp': {
        // Temporal's way to remove the ramping version: ramp no build at 0 %.
        if (values.off) return (takes(0), { name, buildId: '', percent: 0, waitMs });
        takes(2);
        const percent = Number(rest[1]);
        if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
          throw new UsageError(`ramp ${rest[1]}: a percentage from 0 to 100`);
        }
        return { name, buildId: rest[0] ?? '', percent, waitMs };
      }
      case 'retire':
        takes(1);
        return {
          name,
          buildId: rest[0] ?? '',
          waitMs,
        };
      default:
        throw new UsageError(name ? `Unknown command ${name}` : 'No command given');
    }
  })();
  return { command, ...(deployment !== undefined && { deployment }) };
}

const { VersionDrainageStatus, WorkerDeploymentVersionStatus } = proto.temporal.api.enums.v1;
type VersionInfo = temporal.api.deployment.v1.IWorkerDeploymentVersionInfo;

/** `DRAINING` for VERSION_DRAINAGE_STATUS_DRAINING, and so on; `-` when unset. */
function enumName(values: Record<number, string>, value: number | null | undefined, prefix: string): string {
  const name = value ? values[value] : undefined;
  return name ? name.replace(prefix, '') : '-';
}

const drainageName = (value: number | null | undefined) =>
  enumName(VersionDrainageStatus, value, 'VERSION_DRAINAGE_STATUS_');
const statusName = (value: number | null | undefined) =>
  enumName(WorkerDeploymentVersionStatus, value, 'WORKER_DEPLOYMENT_VERSION_STATUS_');

function timeOf(timestamp: temporal.api.deployment.v1.IVersionDrainageInfo['lastCheckedTime']): string {
  return timestamp?.seconds ? new Date(Number(timestamp.seconds) * 1000).toISOString() : '-';
}

/** One deployment's versions, as the operations below see them. */
class DeploymentVersions {
  private readonly identity = `deploy-version:${userInfo().username}@${hostname()}`;

  constructor(
    private readonly connection: Connection,
    private readonly namespace: string,
    readonly deploymentName: string,
  ) {}

  private label(buildId: string): string {
    return `${this.deploymentName}/${buildId}`;
  }

  async status(): Promise<string> {
    const { workerDeploymentInfo: info } = await this.connection.workflowService.describeWorkerDeployment({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
    });
    const routing = info?.routingConfig;
    const currentBuild = routing?.currentDeploymentVersion?.buildId;
    const lines = [
      `deployment ${this.deploymentName} (namespace ${this.namespace})`,
      `  current: ${routing?.currentDeploymentVersion?.buildId || '(none: new orders go to unversioned workers)'}`,
      `  ramping: ${routing?.rampingDeploymentVersion?.buildId ? `${routing.rampingDeploymentVersion.buildId} at ${routing.rampingVersionPercentage ?? 0} %` : '(none)'}`,
      '  versions:',
    ];
    for (const summary of info?.versionSummaries ?? []) {
      const buildId = summary.deploymentVersion?.buildId ?? '?';
      lines.push(
        `    ${buildId}: ${statusName(summary.status)}, drainage ${drainageName(summary.drainageInfo?.status)}` +
          (summary.drainageInfo?.status ? ` (checked ${timeOf(summary.drainageInfo.lastCheckedTime)})` : ''),
      );
      const routed = [currentBuild, routing?.rampingDeploymentVersion?.buildId].includes(buildId);
      const closedRuns = routed ? undefined : await this.closedRunsLine(buildId);
      if (closedRuns) lines.push(`      ${closedRuns}`);
    }
    return lines.join('\n');
  }

  /**
   * The closed runs pinned to the build that the namespace still keeps (for its retention period). A query on a
   * pinned run goes to its build's workers, closed or not: once they have stopped, the Web UI's Queries tab and
   * `temporal workflow query` get no answer for these runs. Their history stays, and GET /orders/{id} reads a closed
   * order's state from it.
   */
  async closedPinnedRuns(buildId: string): Promise<{ count: number; keptUntil?: Date }> {
    const query =
      `TemporalWorkerDeploymentVersion = '${this.deploymentName}:${buildId}' AND ` +
      `TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus != 'Running'`;
    const { namespace } = this;
    const { count } = await this.connection.workflowService.countWorkflowExecutions({ namespace, query });
    if (!count || Number(count) === 0) return { count: 0 };
    // Visibility lists the most recently closed runs first: the first page holds the last to leave.
    const [{ executions }, { config }] = await Promise.all([
      this.connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 100 }),
      this.connection.workflowService.describeNamespace({ namespace }),
    ]);
    const lastClosedMs = Math.max(...(executions ?? []).map(({ closeTime }) => Number(closeTime?.seconds ?? 0) * 1000));
    const retentionMs = Number(config?.workflowExecutionRetentionTtl?.seconds ?? 0) * 1000;
    return { count: Number(count), ...(lastClosedMs > 0 && { keptUntil: new Date(lastClosedMs + retentionMs) }) };
  }

  private async closedRunsLine(buildId: string): Promise<string | undefined> {
    const closed = await this.closedPinnedRuns(buildId);
    if (closed.count === 0) return undefined;
    return (
      `${closed.count} closed order(s) pinned to it are kept until ${closed.keptUntil?.toISOString() ?? '?'} ` +
      "(the namespace's retention); queries on them need this build's workers (GET /orders/{id} does not)"
    );
  }

  async describe(buildId: string): Promise<VersionInfo> {
    const { workerDeploymentVersionInfo: info } = await this.connection.workflowService.describeWorkerDeploymentVersion(
      { namespace: this.namespace, deploymentVersion: { deploymentName: this.deploymentName, buildId } },
    );
    if (!info) throw new RefusedError(`Temporal described no version ${this.label(buildId)}`);
    return info;
  }

  /** Temporal knows a version once one of its workers has polled: say so when it does not know the build. */
  private async routing(buildId: string, waitMs: number, change: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await change();
        return;
      } catch (error) {
        // Waitable: the build's workers have not polled yet, or not yet on every queue the current build serves.
        const notYet =
          isGrpcServiceError(error) &&
          /not found|does your Worker Deployment have pollers|is missing active task queues/i.test(error.details);
        if (!notYet) throw error;
        if (Date.now() >= deadline) {
          throw new RefusedError(
            `Temporal cannot route to ${this.label(buildId)} yet (${error.details}): start the build's orders ` +
              `workers first (TEMPORAL_WORKER_BUILD_ID=${buildId}); a version exists once they have polled` +
              (waitMs > 0 ? ` (waited ${Math.round(waitMs / 1000)} s)` : ' (--wait <duration> waits for them)'),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, Math.max(0, deadline - Date.now()))));
      }
    }
  }

  async setCurrent(buildId: string, waitMs: number): Promise<string> {
    await this.routing(buildId, waitMs, () =>
      this.connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: this.namespace,
        deploymentName: this.deploymentName,
        buildId,
        identity: this.identity,
      }),
    );
    return `${this.label(buildId)} is current: new orders start on it; open orders stay on the build they started on`;
  }

  async ramp(buildId: string, percent: number, waitMs: number): Promise<string> {
    await this.routing(buildId, waitMs, () =>
      this.connection.workflowService.setWorkerDeploymentRampingVersion({
        namespace: this.namespace,
        deploymentName: this.deploymentName,
        buildId,
        percentage: percent,
        identity: this.identity,
      }),
    );
    return buildId === ''
      ? `${this.deploymentName}: no ramping build; new orders start on the current one`
      : `${this.label(buildId)} ramps at ${percent} %: that share of new orders starts on it`;
  }

  /** Deletes the version once nothing is pinned to it and no worker polls as it; waits up to waitMs for both. */
  async retire(buildId: string, waitMs: number): Promise<string> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const notYet = await this.whyNotRetirable(buildId).then(
        async (reason) => reason ?? (await this.tryDelete(buildId)),
      );
      if (notYet === undefined) return `${this.label(buildId)} retired: the version is deleted`;
      if (Date.now() >= deadline) {
        throw new RefusedError(
          `${this.label(buildId)} cannot be retired yet: ${notYet}` +
            (waitMs > 0 ? ` (waited ${Math.round(waitMs / 1000)} s)` : ' (--wait <duration> waits for it)'),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Why the version may not go yet, in words; undefined when it may. */
  private async whyNotRetirable(buildId: string): Promise<string | undefined> {
    const info = await this.describe(buildId);
    const status = statusName(info.status);
    if (status === 'CURRENT' || status === 'RAMPING') {
      // Waiting would not help: only an operator's set-current or ramp moves it.
      throw new RefusedError(
        `${this.label(buildId)} cannot be retired: it is ${status.toLowerCase()}; make another build current ` +
          '(set-current) or stop the ramp (ramp --off) first',
      );
    }
    // The version's status turns DRAINING as soon as it stops being current; its drainage info only once the server
    // has checked (seconds to minutes later): either means open orders may still be pinned to it.
    if (status === 'DRAINING' || info.drainageInfo?.status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING) {
      const checked = info.drainageInfo?.lastCheckedTime;
      return (
        `open orders are still pinned to it (${checked ? `drainage DRAINING, last checked ${timeOf(checked)}` : 'DRAINING, drainage not checked yet'}): ` +
        'keep its workers running until they finish'
      );
    }
    return undefined;
  }

  /** Deletes the version; undefined when deleted, else why Temporal would not (yet). */
  private async tryDelete(buildId: string): Promise<string | undefined> {
    try {
      // A deadline: the server was seen to hold a deletion for over 30 s while the version's drainage was unknown.
      await this.connection.withDeadline(Date.now() + deleteDeadlineMs, () =>
        this.connection.workflowService.deleteWorkerDeploymentVersion({
          namespace: this.namespace,
          deploymentVersion: { deploymentName: this.deploymentName, buildId },
          identity: this.identity,
        }),
      );
      return undefined;
    } catch (error) {
      if (isGrpcServiceError(error) && Number(error.code) === grpcDeadlineExceeded) {
        return `Temporal did not answer the deletion within ${deleteDeadlineMs / 1000} s`;
      }
      // The server refuses while a worker polls as the version, or polled within matching.PollerHistoryTTL.
      if (isGrpcServiceError(error) && /poller/i.test(error.details)) {
        return `workers still poll as it (or did within the server's matching.PollerHistoryTTL, 5 min by default): stop them first (${error.details})`;
      }
      throw error;
    }
  }
}

async function run(command: Command, versions: DeploymentVersions): Promise<string> {
  switch (command.name) {
    case 'status':
      return versions.status();
    case 'set-current':
      return versions.setCurrent(command.buildId, command.waitMs);
    case 'ramp':
      return versions.ramp(command.buildId, command.percent, command.waitMs);
    case 'retire':
      return versions.retire(command.buildId, command.waitMs);
  }
}

async function main(): Promise<number> {
  const parsed = parseCommand(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(usage);
    return 0;
  }
  const config = loadConfig();
  const { namespace } = config.temporal;
  const deploymentName = parsed.deployment ?? config.temporal.workerDeploymentName;
  // Where and how (TLS, API key, profile) as every process of the system connects; unreachable: exit status 1.
  const connection = await connectClient(config.temporal.endpoint).catch((error: unknown) => {
    throw new RefusedError(error instanceof Error ? error.message : String(error));
  });
  try {
    const versions = new DeploymentVersions(connection, namespace, deploymentName);
    console.log(await run(parsed.command, versions));
    return 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(`${error.message}\n\n${usage}`);
      process.exit(2);
    }
    // Temporal's own refusals (not found, not ready, no pollers yet) say why in their details.
    const message = isGrpcServiceError(error)
      ? `Temporal refused: ${error.details || error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
    console.error(message);
    process.exit(1);
  },
);
