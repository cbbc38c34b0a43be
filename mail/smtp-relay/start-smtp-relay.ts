import { hostname } from 'node:os';
import type { Services } from '../../cli/services.ts';
import { createSmarthostForwarder } from './smarthost.ts';
import { createSmtpRelay } from './smtp-relay.ts';

/** Starts the submission relay when a smarthost is configured; `url` is `smtp://host:port`. */
export async function startSmtpRelay(services: Services): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const { config, logger } = services;
  const smarthost = config.smtpRelay.smarthost;
  if (!smarthost) {
    logger.error('the SMTP relay is enabled but SENDGUARD_SMARTHOST is not set; the relay is not started');
    return undefined;
  }
  const name = config.smtpRelay.hostname ?? hostname();
  const forwarder = createSmarthostForwarder(smarthost, { hostname: name });
  const relay = createSmtpRelay({
    enforcement: services.enforcement,
    credentials: services.relayCredentials,
    forwarder,
    networks: config.smtpRelay.networks,
    hostname: name,
    clock: services.clock,
    logger,
  });
  const address = await relay.listen(config.listen.smtpPort, config.listen.host);
  return {
    url: `smtp://${config.listen.host}:${address.port}`,
    async stop() {
      await relay.close();
      forwarder.close();
    },
  };
}
