/**
 * Re-wrap the base64 body of an ASCII-armored block at `width` characters per line. Any width up
 * to 76 is valid armor (RFC 4880 6.3) and gpg and OpenPGP.js read it alike. Pure.
 */
export function rewrapArmor(armored: string, width: number): string {
  const lines = armored.replace(/\r\n?/g, '\n').trim().split('\n');
  const begin = lines.findIndex((line) => line.startsWith('-----BEGIN '));
  const end = lines.findIndex((line) => line.startsWith('-----END '));
  if (begin < 0 || end < begin) return armored;
  // Armor headers ("Comment: ...") end at the first blank line after BEGIN.
  let bodyStart = begin + 1;
  const blank = lines.indexOf('', begin + 1);
  if (blank > 0 && blank < end) bodyStart = blank + 1;
  const body = lines.slice(bodyStart, end);
  const checksumIndex = body.findIndex((line) => line.startsWith('='));
  const data = (checksumIndex >= 0 ? body.slice(0, checksumIndex) : body).join('');
  const checksum = checksumIndex >= 0 ? body.slice(checksumIndex) : [];
  const wrapped: string[] = [];
  for (let i = 0; i < data.length; i += width) wrapped.push(data.slice(i, i + width));
  return `${[...lines.slice(0, bodyStart), ...wrapped, ...checksum, ...lines.slice(end)].join('\n')}\n`;
}
