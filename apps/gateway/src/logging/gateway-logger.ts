/**
 * The gateway's root pino logger (redacting), injected as is rather than through Nest's `Logger`,
 * whose logger is process-wide: with several gateways in one process (tests) every one would log
 * into the last one's destination.
 */
export const GATEWAY_LOGGER = Symbol('GATEWAY_LOGGER');
