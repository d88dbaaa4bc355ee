// Socket addresses as the SRTP accelerator's watch() writes them (16 bytes: an IPv4 address in the first 4, or an IPv6
// address), for a media worker's ingress (send-worker.mjs): the ints it compares a datagram's source with, and the
// text Node would give the same address (RFC 5952 for IPv6), for datagrams handed to werift on the main thread.

/** The 16 address bytes of `ip` (IPv4 dotted, or IPv6 text, IPv4-mapped included). */
function addressBytes(ip, family) {
  const bytes = Buffer.alloc(16);
  if (family === 4) {
    ip.split('.').forEach((x, i) => (bytes[i] = Number(x)));
    return bytes;
  }
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const words = (part) => {
    if (!part) return [];
    const out = [];
    for (const w of part.split(':')) {
      if (w.includes('.')) {
        const [a, b, c, d] = w.split('.').map(Number);
        out.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
      } else out.push(w);
    }
    return out;
  };
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  all.forEach((w, i) => bytes.writeUInt16BE(parseInt(w, 16) || 0, i * 2));
  return bytes;
}

/** The ints watch() writes for `ip`: one for IPv4, four for IPv6. */
export function addressInts(ip, family) {
  const ints = new Int32Array(addressBytes(ip, family).buffer, 0, 4);
  return family === 4 ? [ints[0]] : [...ints];
}

/** The text of the address in `bytes` (16 bytes as watch() writes them), as Node gives it. */
export function addressText(bytes, family) {
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words = [];
  for (let j = 0; j < 8; j++) words.push(bytes.readUInt16BE(j * 2));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  // The longest run of two or more zero words (the first of equal ones) becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let j = 0; j < 8; ) {
    let k = j;
    while (k < 8 && words[k] === 0) k++;
    if (k - j > bestLength) [best, bestLength] = [j, k - j];
    j = k > j ? k : j + 1;
  }
  const hex = words.map((w) => w.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}
