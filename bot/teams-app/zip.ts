import { crc32, deflateRawSync } from 'node:zlib';

/** A minimal ZIP writer (deflate or stored, no ZIP64): enough for a Teams app package. */

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

// 1980-01-01 00:00 in MS-DOS format, so the same inputs always give the same bytes.
const dosTime = 0;
const dosDate = (0 << 9) | (1 << 5) | 1;
const utf8Names = 0x0800;

interface Prepared {
  name: Buffer;
  method: 0 | 8;
  body: Buffer;
  crc: number;
  size: number;
  offset: number;
}

function prepare(entry: ZipEntry, offset: number): Prepared {
  const deflated = deflateRawSync(entry.data, { level: 9 });
  const stored = deflated.length >= entry.data.length;
  return {
    name: Buffer.from(entry.name, 'utf8'),
    method: stored ? 0 : 8,
    body: stored ? Buffer.from(entry.data) : deflated,
    crc: crc32(entry.data) >>> 0,
    size: entry.data.length,
    offset,
  };
}

function localHeader(p: Prepared): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(utf8Names, 6);
  h.writeUInt16LE(p.method, 8);
  h.writeUInt16LE(dosTime, 10);
  h.writeUInt16LE(dosDate, 12);
  h.writeUInt32LE(p.crc, 14);
  h.writeUInt32LE(p.body.length, 18);
  h.writeUInt32LE(p.size, 22);
  h.writeUInt16LE(p.name.length, 26);
  return Buffer.concat([h, p.name]);
}

function centralHeader(p: Prepared): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(utf8Names, 8);
  h.writeUInt16LE(p.method, 10);
  h.writeUInt16LE(dosTime, 12);
  h.writeUInt16LE(dosDate, 14);
  h.writeUInt32LE(p.crc, 16);
  h.writeUInt32LE(p.body.length, 20);
  h.writeUInt32LE(p.size, 24);
  h.writeUInt16LE(p.name.length, 28);
  h.writeUInt32LE(p.offset, 42);
  return Buffer.concat([h, p.name]);
}

function endOfCentralDirectory(count: number, size: number, offset: number): Buffer {
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(count, 8);
  e.writeUInt16LE(count, 10);
  e.writeUInt32LE(size, 12);
  e.writeUInt32LE(offset, 16);
  return e;
}

export function createZip(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const prepared: Prepared[] = [];
  let offset = 0;
  for (const entry of entries) {
    const p = prepare(entry, offset);
    const local = Buffer.concat([localHeader(p), p.body]);
    parts.push(local);
    prepared.push(p);
    offset += local.length;
  }
  const central = Buffer.concat(prepared.map(centralHeader));
  if (offset + central.length > 0xffffffff || entries.length > 0xffff) throw new RangeError('archive too large for a ZIP without ZIP64');
  return Buffer.concat([...parts, central, endOfCentralDirectory(prepared.length, central.length, offset)]);
}
