import net from 'node:net';

/**
 * A loopback port nothing listens on right now, for a listener that cannot bind port 0 and report back (Core's
 * metrics exporter), and for the test servers and processes the tooling starts. Another process may take it before
 * it is bound: callers bind at once.
 */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
