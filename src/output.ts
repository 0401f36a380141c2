/**
 * Where text goes. Log lines (timestamped, for a DBA following along) go to stderr. A command's
 * result goes to stdout: human text normally, one JSON document with --json (then human text is on
 * stderr only). Colour only on a terminal and never under NO_COLOR; progress bars only on a terminal.
 */
const env = process.env;

export const output = {
  json: false,
  quiet: false,
};

const useColor = () => !('NO_COLOR' in env) && env.TERM !== 'dumb' && Boolean(process.stderr.isTTY);
export const isInteractive = () => Boolean(process.stderr.isTTY) && !env.CI;

const paint = (code: string) => (s: string) => (useColor() ? `\u001b[${code}m${s}\u001b[0m` : s);
export const color = {
  red: paint('31'),
  green: paint('32'),
  yellow: paint('33'),
  dim: paint('2'),
  bold: paint('1'),
};

function stamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function line(level: string, message: string) {
  if (output.quiet && level !== 'error') return;
  process.stderr.write(`${color.dim(stamp())} ${level} ${message}\n`);
}

export const log = {
  info: (m: string) => line(color.dim('info '), m),
  ok: (m: string) => line(color.green('ok   '), m),
  warn: (m: string) => line(color.yellow('warn '), m),
  error: (m: string) => line(color.red('error'), m),
  debug: (m: string) => {
    if (env.SARK_DEBUG) line(color.dim('debug'), m);
  },
};

/** Runs `fn` and logs its duration at debug level (SARK_DEBUG=1): the parts of a step, timed. */
export async function timedDebug<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  log.debug(`${name}: ${formatDuration(performance.now() - started)}`);
  return result;
}

/** Runs `fn`, logging its start and its duration, so every step in a log carries its timing. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log.info(`${name} …`);
  const result = await fn();
  log.ok(`${name} (${formatDuration(performance.now() - started)})`);
  return result;
}

/**
 * One long statement that reports nothing while it runs (the dry-run plan, a validation pass):
 * on a terminal its elapsed time ticks beside the label; piped, a plain line says it is still
 * running every 10 s, so a CI log never goes silent for long; nothing when it is quick.
 */
export async function working<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const elapsed = () => formatDuration(performance.now() - started);
  const interactive = isInteractive() && !output.quiet;
  let shown = false;
  const timer = setInterval(
    () => {
      if (interactive) {
        shown = true;
        process.stderr.write(`\r${color.dim('…')} ${label} ${elapsed()}\u001b[K`);
      } else {
        log.info(`${label}: still running (${elapsed()})`);
      }
    },
    interactive ? 250 : 10_000,
  );
  timer.unref();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    if (shown) process.stderr.write('\r\u001b[K');
    if (performance.now() - started > 2000) log.info(`${label}: ${elapsed()}`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The result of a command: human text to stdout, or (with --json) the JSON document. */
export function emit(result: unknown, human: () => string) {
  if (output.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const text = human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/**
 * Progress for long work: a redrawn bar on a terminal (rows, rows/s, ETA), a plain line every few
 * seconds elsewhere (CI logs), nothing under --json on a non-terminal.
 */
export function progress(label: string, total: number) {
  const started = performance.now();
  let lastPrint = 0;
  const interactive = isInteractive();
  return {
    update(done: number) {
      const now = performance.now();
      if (now - lastPrint < (interactive ? 200 : 5000) && done < total) return;
      lastPrint = now;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const eta = rate > 0 && total > done ? (total - done) / rate : 0;
      const pct = total > 0 ? Math.min(100, (100 * done) / total) : 100;
      const text = `${label} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows (${pct.toFixed(0)}%), ${Math.round(rate).toLocaleString('en-US')} rows/s, ETA ${formatDuration(eta * 1000)}`;
      if (interactive) {
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\u001b[K`);
      } else if (!output.quiet) {
        line('info ', text);
      }
    },
    done() {
      if (interactive) process.stderr.write('\n');
    },
  };
}
