import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Redaction is a second line of defence: nothing that opens a bid (content keys, private keys,
 * shares, passwords, tokens) should ever be passed to a logger in the first place.
 */
export function createLogger(level: string, name = 'platform', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.privateKey',
        '*.privateKeyPem',
        '*.contentKey',
        '*.share',
        '*.token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
