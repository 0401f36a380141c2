/**
 * Why a connection failed, asked of the peer itself. The drivers report a non-PostgreSQL service,
 * or a server without TLS under sslmode=require, as a reset or a hang; libpq (and so psql) says
 * what happened. This sends the first message libpq sends, an SSLRequest, and reads the answer:
 * a PostgreSQL server answers one byte, 'S' or 'N'; anything else is another service. Only run
 * after a failure: a server that said 'S' logs the probe's hang-up as an aborted TLS handshake.
 */
import { connect, type Socket } from 'node:net';
import type { ConnectionSettings } from '../config/connection.ts';

export type ProbeAnswer =
  | { kind: 'postgres'; ssl: boolean }
  | { kind: 'other'; sent: string }
  | { kind: 'silent' }
  | { kind: 'closed' }
  | { kind: 'unreachable'; code: string };

/** SSLRequest: length 8, then the request code 1234 5679. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Waits up to timeoutMs for the answer; an aborted probe hangs up at once, answering 'silent'. */
export function probe(c: ConnectionSettings, timeoutMs: number, signal?: AbortSignal): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = c.host.startsWith('/') ? connect(`${c.host}/.s.PGSQL.${c.port}`) : connect(c.port, c.host);
    let received = Buffer.alloc(0);
    const done = (answer: ProbeAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // Bytes that arrive together are read together, so a chatty service shows more than a letter.
    const settle = () => {
      const first = received[0];
      if (received.length === 1 && (first === 0x53 || first === 0x4e)) done({ kind: 'postgres', ssl: first === 0x53 });
      else done({ kind: 'other', sent: printable(received) });
    };
    const timer = setTimeout(() => (received.length ? settle() : done({ kind: 'silent' })), timeoutMs);
    signal?.addEventListener('abort', () => done({ kind: 'silent' }), { once: true });
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      setTimeout(settle, 50);
    });
    socket.once('end', () => (received.length ? settle() : done({ kind: 'closed' })));
    socket.once('error', (e: NodeJS.ErrnoException) => (received.length ? settle() : done({ kind: 'unreachable', code: e.code ?? e.message })));
  });
}

function printable(b: Buffer): string {
  const text = b.subarray(0, 60).toString('latin1').split(/\r?\n/)[0]!.replace(/[^\x20-\x7e]/g, '.');
  return text || `0x${b.subarray(0, 8).toString('hex')}`;
}
