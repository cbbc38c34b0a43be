import type { Metrics } from '../../api/metrics.ts';
import type { Services } from '../../cli/services.ts';
import { createPolicyServer } from './policy-server.ts';

/** Starts the policy delegation server on the configured address; `url` is `tcp://host:port`. */
export async function startPolicyServer(services: Services, metrics: Metrics): Promise<{ url: string; stop(): Promise<void> }> {
  const { host, policyPort } = services.config.listen;
  await services.enforcement.warmUp(services.database.connections)
    .catch((err: unknown) => services.logger.warn({ err }, 'could not ready the database connections for counting; the first requests will'));
  const policy = createPolicyServer({ enforcement: services.enforcement, logger: services.logger, metrics });
  const address = await policy.listen(policyPort, host);
  return { url: `tcp://${host}:${address.port}`, stop: () => policy.close() };
}
