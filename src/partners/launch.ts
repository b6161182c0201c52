import { launchServiceProcess, type ServiceProcess } from '../service-process';
import { gatewayPaths, partnerFaultsSchema, type PartnerFaults } from './contract';

/**
 * The payment gateway as the separate process it is (src/partners/gateway/main.ts),
 * for `npm start`, the chaos command and the tests, with a handle to switch
 * its faults over its admin route.
 */
export interface GatewayProcess {
  readonly url: string;
  readonly process: ServiceProcess;
  setFaults(faults: Partial<PartnerFaults>): Promise<PartnerFaults>;
  stop(): Promise<void>;
}

export interface GatewayLaunchOptions {
  port: number;
  /** Its store of charges (a `file:` URL); keeps charges and idempotency keys across restarts. */
  databaseUrl: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
}

export async function launchGateway({ port, databaseUrl, env, onLine }: GatewayLaunchOptions): Promise<GatewayProcess> {
  const url = `http://127.0.0.1:${port}`;
  const child = launchServiceProcess({
    name: 'gateway',
    script: 'src/partners/gateway/main.ts',
    env: {
      ...(env ?? process.env),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_DATABASE_URL: databaseUrl,
    },
    onLine: onLine ?? (() => undefined),
  });
  // A gateway that exits first (its port taken, say) never reports ready: fail then, not hang.
  await Promise.race([
    child.ready,
    child.closed.then(({ code, signal }) => {
      throw new Error(
        `The payment gateway exited before it was ready (${signal ?? `code ${code}`}); is port ${port} free?`,
      );
    }),
  ]);
  return {
    url,
    process: child,
    async setFaults(faults) {
      const response = await fetch(new URL(gatewayPaths.faults, url), {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(partnerFaultsSchema.parse(faults)),
      });
      if (!response.ok) throw new Error(`The gateway refused its faults: ${response.status} ${await response.text()}`);
      return partnerFaultsSchema.parse(await response.json());
    },
    stop: () => child.stop(),
  };
}
