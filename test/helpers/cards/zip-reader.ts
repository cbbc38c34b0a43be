import { crc32, inflateRawSync } from 'node:zlib';

/** Reads a ZIP archive back through its central directory, checking each entry's CRC and size. */

export interface ZipEntryRead {
  name: string;
  method: number;
  data: Buffer;
}

function endOfCentralDirectory(zip: Buffer): number {
  for (let i = zip.length - 22; i >= 0; i--) if (zip.readUInt32LE(i) === 0x06054b50) return i;
  throw new Error('no end of central directory record');
}

function readEntry(zip: Buffer, at: number): { entry: ZipEntryRead; next: number } {
  if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`no central directory header at ${at}`);
  const method = zip.readUInt16LE(at + 10);
  const crc = zip.readUInt32LE(at + 16);
  const compressed = zip.readUInt32LE(at + 20);
  const size = zip.readUInt32LE(at + 24);
  const nameLength = zip.readUInt16LE(at + 28);
  const extra = zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  const local = zip.readUInt32LE(at + 42);
  const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
  if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`no local header for ${name}`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const body = zip.subarray(start, start + compressed);
  const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
  if (data.length !== size || (crc32(data) >>> 0) !== crc) throw new Error(`${name}: size or CRC does not match`);
  return { entry: { name, method, data }, next: at + 46 + nameLength + extra };
}

export function readZip(zip: Buffer): ZipEntryRead[] {
  const end = endOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntryRead[] = [];
  for (let i = 0; i < count; i++) {
    const { entry, next } = readEntry(zip, at);
    entries.push(entry);
    at = next;
  }
  return entries;
}
