/**
 * Structured JSON logs for the Lambda handlers, one line per entry, in Powertools Logger's shape
 * (`level`, `message`, `timestamp`, `service`, `xray_trace_id`, then the keys), read
 * from the same variables (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`), so Logs Insights
 * queries written for Powertools work unchanged. Klaxon used only this part of Powertools Logger;
 * the library is 23 kB of every bundle (sampling, buffering, formatters), which the 250 kB bundle
 * goal and cold starts pay for.
 */

const LEVELS = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, SILENT: 28 } as const;
type Level = Exclude<keyof typeof LEVELS, 'SILENT'>;

export class JsonLogger {
  readonly #service: string;
  readonly #threshold: number;
  readonly #write: (line: string) => void;
  #keys: Record<string, unknown> = {};

  constructor(
    env: Readonly<Record<string, string | undefined>> = process.env,
    write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.#service = env.POWERTOOLS_SERVICE_NAME || 'service_undefined';
    const level = (
      env.POWERTOOLS_LOG_LEVEL ||
      env.LOG_LEVEL ||
      env.AWS_LAMBDA_LOG_LEVEL ||
      'INFO'
    ).toUpperCase();
    this.#threshold = LEVELS[level as keyof typeof LEVELS] ?? LEVELS.INFO;
    this.#write = write;
  }

  /** Keys added to every later entry of this invocation (and process), as Powertools' appendKeys. */
  appendKeys(keys: Record<string, unknown>): void {
    this.#keys = { ...this.#keys, ...keys };
  }

  debug(message: string, data: Record<string, unknown> = {}): void {
    this.#log('DEBUG', message, data);
  }
  info(message: string, data: Record<string, unknown> = {}): void {
    this.#log('INFO', message, data);
  }
  warn(message: string, data: Record<string, unknown> = {}): void {
    this.#log('WARN', message, data);
  }
  error(message: string, data: Record<string, unknown> = {}): void {
    this.#log('ERROR', message, data);
  }

  #log(level: Level, message: string, data: Record<string, unknown>): void {
    if (LEVELS[level] < this.#threshold) return;
    const trace = process.env._X_AMZN_TRACE_ID?.match(/Root=([^;]+)/)?.[1];
    const entry = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.#service,
      ...(trace ? { xray_trace_id: trace } : {}),
      ...this.#keys,
      ...data,
    };
    this.#write(`${JSON.stringify(entry, errorsAsObjects)}\n`);
  }
}

/** Errors as Powertools writes them (an Error's own fields are not enumerable, so JSON drops them). */
function errorsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}
