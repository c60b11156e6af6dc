/** The armor block types this project reads. */
export type ArmorType = 'PGP PRIVATE KEY BLOCK' | 'PGP PUBLIC KEY BLOCK' | string;

/** A decoded ASCII-armor block. */
export type Armored = { type: ArmorType; headers: string[]; data: Uint8Array };

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/;

/**
 * Decode the first ASCII-armored block in `text` (RFC 9580 section 6.2). Tolerant of CRLF, leading
 * whitespace, missing blank line after headers, and a missing CRC line; returns null when there
 * is no BEGIN line or the body is not base64. Never throws.
 */
export function decodeArmor(text: string): Armored | null {
  const begin = BEGIN.exec(text);
  if (!begin) return null;
  const type = begin[1]!;
  const rest = text.slice(begin.index + begin[0].length);
  const endIndex = rest.indexOf(`-----END ${type}-----`);
  const body = endIndex === -1 ? rest : rest.slice(0, endIndex);
  const lines = body.split(/\r?\n|\r/).map((line) => line.trim());
  const headers: string[] = [];
  let index = 0;
  while (index < lines.length && lines[index] === '') index++;
  // Armor headers are `Key: value` lines before the first blank line; base64 never contains ': '.
  while (index < lines.length && /^[A-Za-z][A-Za-z0-9-]*: /.test(lines[index]!)) headers.push(lines[index++]!);
  let base64 = '';
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === '') continue;
    if (line.startsWith('=') && line.length === 5) break; // CRC-24 line
    if (!/^[A-Za-z0-9+/=]+$/.test(line)) return null;
    base64 += line;
  }
  if (base64.length < 4) return null;
  return { type, headers, data: new Uint8Array(Buffer.from(base64, 'base64')) };
}

/** True when the text looks like armored OpenPGP data (a BEGIN PGP line). */
export function isArmored(text: string): boolean {
  return /-----BEGIN PGP [A-Z ]+-----/.test(text);
}

/**
 * Like decodeArmor, but also accepts a block whose line breaks were turned into spaces (a key pasted
 * into a one-line environment variable or label) by retrying with the body's spaces as line breaks.
 */
export function decodeArmorLoose(text: string): Armored | null {
  const strict = decodeArmor(text);
  if (strict) return strict;
  const begin = BEGIN.exec(text);
  if (!begin) return null;
  const head = text.slice(0, begin.index + begin[0].length);
  const rest = text.slice(head.length);
  const end = rest.indexOf(`-----END ${begin[1]!}-----`);
  const body = end === -1 ? rest : rest.slice(0, end);
  return decodeArmor(`${head}\n\n${body.replace(/[ \t]+/g, '\n')}\n${end === -1 ? '' : rest.slice(end)}`);
}
