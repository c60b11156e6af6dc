import { EicBuildError } from '../errors.js';

/**
 * Reads an HTTP response body into memory, counting bytes while they stream in, and stops (cancelling the
 * body) as soon as it passes `maxBytes`. Content-Length is only an early refusal: a server that sends none,
 * or lies, is cut off at the cap all the same, so a hostile server cannot exhaust memory.
 */
export async function readBodyLimited(response: Response, maxBytes: number, what: string): Promise<Buffer> {
  const tooLarge = () =>
    new EicBuildError('input-corrupt', `${what} is more than the ${maxBytes} bytes eic-build accepts`, {
      hint: 'check that the URL names the right server and object; a larger one is not a valid answer here',
    });
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await cancelBody(response);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bodyChunks(response)) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await cancelBody(response);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** At most `maxBytes` of a body as text, for an error message; the rest is dropped. Never throws. */
export async function readBodyPrefix(response: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of bodyChunks(response)) {
      chunks.push(chunk.subarray(0, maxBytes - total));
      total += Math.min(chunk.byteLength, maxBytes - total);
      if (total >= maxBytes) break;
    }
  } catch {
    // a broken body still leaves what arrived for the message
  }
  await cancelBody(response);
  return Buffer.concat(chunks, total).toString('utf8');
}

async function* bodyChunks(response: Response): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function cancelBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // already consumed or locked
  }
}
