import { launchServiceProcess, type ServiceProcess } from '../tooling/start/service-process';
import { carrierPaths, gatewayPaths, partnerFaultsSchema, type PartnerFaults } from '../src/partners/contract';

/**
 * The partners as the separate processes they are (simulators/gateway/main.ts,
 * simulators/carrier/main.ts), for `npm start`, the chaos command and the
 * tests, with a handle to switch their faults over their admin route.
 */
export interface PartnerProcess {
  readonly url: string;
  readonly process: ServiceProcess;
  setFaults(faults: Partial<PartnerFaults>): Promise<PartnerFaults>;
  stop(): Promise<void>;
}

/** The payment gateway's handle; the name says which partner a test holds. */
export type GatewayProcess = PartnerProcess;
export type CarrierProcess = PartnerProcess;

interface PartnerLaunchOptions {
  port: number;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
}

export interface GatewayLaunchOptions extends PartnerLaunchOptions {
  /** Its store of charges (a `file:` URL); keeps charges and idempotency keys across restarts. */
  databaseUrl: string;
}

export function launchGateway({ databaseUrl, ...options }: GatewayLaunchOptions): Promise<GatewayProcess> {
  return launchPartner('gateway', 'simulators/gateway/main.ts', gatewayPaths.faults, options, {
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(options.port),
    GATEWAY_DATABASE_URL: databaseUrl,
  });
}

export function launchCarrier(options: PartnerLaunchOptions): Promise<CarrierProcess> {
  return launchPartner('carrier', 'simulators/carrier/main.ts', carrierPaths.faults, options, {
    CARRIER_HOST: '127.0.0.1',
    CARRIER_PORT: String(options.port),
  });
}

async function launchPartner(
  name: string,
  script: string,
  faultsPath: string,
  { port, env, onLine }: PartnerLaunchOptions,
  partnerEnv: NodeJS.ProcessEnv,
): Promise<PartnerProcess> {
  const url = `http://127.0.0.1:${port}`;
  const child = launchServiceProcess({
    name,
    script,
    env: { ...(env ?? process.env), ...partnerEnv },
    onLine: onLine ?? (() => undefined),
  });
  // A partner that exits first (its port taken, say) never reports ready: fail then, not hang.
  await Promise.race([
    child.ready,
    child.closed.then(({ code, signal }) => {
      throw new Error(
        `The ${name} process exited before it was ready (${signal ?? `code ${code}`}); is port ${port} free?`,
      );
    }),
  ]);
  return {
    url,
    process: child,
    async setFaults(faults) {
      const response = await fetch(new URL(faultsPath, url), {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(partnerFaultsSchema.parse(faults)),
      });
      if (!response.ok) throw new Error(`The ${name} refused its faults: ${response.status} ${await response.text()}`);
      return partnerFaultsSchema.parse(await response.json());
    },
    stop: () => child.stop(),
  };
}
