import { describe, expect, it } from 'vitest';
import {
  DistccTally,
  distccCounts,
  distccSummary,
  elfComment,
  probeDifference,
} from '../../../src/compile/distcc.js';
import { distccHosts } from '../../../src/spec/distcc.js';

const HOSTS = distccHosts(['10.9.0.2/2', '10.9.0.6:3632/2,lzo', 'localhost/1']);

/** distcc 3.4's client log at its default level, as it writes it (see test/integration/distcc.test.ts). */
const LOG = `distcc[100] compile from init/main.c to init/main.o
distcc[100] exec on 10.9.0.2/2: gcc -c init/main.c -o init/main.o
distcc[101] compile from kernel/fork.c to kernel/fork.o
distcc[101] exec on 10.9.0.6:3632/2,lzo: gcc -c kernel/fork.c -o kernel/fork.o
distcc[100] cpp init/main.c on localhost completed ok
distcc[100] 146 bytes from init/main.c compiled on 10.9.0.2 in 0.0517s, rate 3kB/s
distcc[100] compile init/main.c on 10.9.0.2/2 completed ok
distcc[100] elapsed compilation time 0.051973s
distcc[101] ERROR: nonblocking connect to 10.9.0.6:3632 failed: Connection refused
distcc[101] exec on localhost: gcc -c kernel/fork.c -o kernel/fork.o
distcc[101] compile kernel/fork.c on localhost completed ok
distcc[101] elapsed compilation time 0.017199s
distcc[102] (dcc_scan_args) no visible input file
distcc[102] exec on localhost: gcc -c arch/x86/entry/entry_64.S -o arch/x86/entry/entry_64.o
distcc[102] compile (null) on localhost completed ok
distcc[102] elapsed compilation time 0.175347s
distcc[100] compile from mm/slub.c to mm/slub.o
distcc[100] exec on localhost: gcc -c mm/slub.c -o mm/slub.o
distcc[100] compile mm/slub.c on localhost completed ok
distcc[100] elapsed compilation time 0.3s
distcc[103] compile from fs/open.c to fs/open.o
distcc[103] exec on 10.9.0.6:3632/2,lzo: gcc -c fs/open.c -o fs/open.o
distcc[103] compile fs/open.c on 10.9.0.6:3632/2,lzo completed ok
distcc[103] elapsed compilation time 0.2s
distcc[104] compile from mm/mmap.c to mm/mmap.o
distcc[104] exec on 10.9.0.6:3632/2,lzo: gcc -c mm/mmap.c -o mm/mmap.o
distcc[104] ERROR: nonblocking connect to 10.9.0.6:3632 failed: Connection refused
distcc[104] exec on 10.9.0.2/2: gcc -c mm/mmap.c -o mm/mmap.o
distcc[104] compile mm/mmap.c on 10.9.0.2/2 completed ok
distcc[104] elapsed compilation time 0.05s
`;

describe("distcc's client log", () => {
  it('counts each compile where it completed, and the ones a distcc host failed (made here or on another host)', () => {
    const c = distccCounts(LOG, HOSTS);
    expect(c).toEqual({
      hosts: [
        // init/main.c; mm/mmap.c after 10.9.0.6 refused it
        { host: '10.9.0.2/2', compiles: 2, failed: 0 },
        // fs/open.c; kernel/fork.c and mm/mmap.c refused
        { host: '10.9.0.6:3632/2,lzo', compiles: 1, failed: 2 },
      ],
      // kernel/fork.c (fell back) and mm/slub.c (a reused pid, a local slot); not the .S (no source distcc could send).
      local: 2,
      retried: 2,
    });
    expect(distccSummary(c)).toBe(
      '10.9.0.2/2 2, 10.9.0.6:3632/2,lzo 1 (2 failed); here 2; 2 retried after a distcc host failed',
    );
  });

  it('gives the same counts fed in pieces that split lines', () => {
    const t = new DistccTally(HOSTS);
    for (let i = 0; i < LOG.length; i += 37) t.feed(LOG.slice(i, i + 37));
    expect(t.counts()).toEqual(distccCounts(LOG, HOSTS));
  });
});

describe('the toolchain probe', () => {
  // Objects built here byte by byte (elfObject below): the integration test compiles real ones.
  const obj = (comment: string) => elfObject(comment);

  it("reads cc1's .comment from an ELF object", () => {
    expect(elfComment(obj('GCC: (Debian 12.2.0-14) 12.2.0'))).toEqual(['GCC: (Debian 12.2.0-14) 12.2.0']);
    expect(elfComment(new TextEncoder().encode('#!/bin/sh\n'))).toBeNull();
  });

  it('says which compiler differs, or that the code differs under the same compiler', () => {
    const here = obj('GCC: (Debian 12.2.0-14) 12.2.0');
    expect(probeDifference(here, obj('GCC: (Debian 12.2.0-14) 12.2.0'))).toBeNull();
    expect(probeDifference(here, obj('GCC: (Debian 11.3.0-12) 11.3.0'))).toBe(
      'its compiler is GCC: (Debian 11.3.0-12) 11.3.0; here it is GCC: (Debian 12.2.0-14) 12.2.0',
    );
    const other = obj('GCC: (Debian 12.2.0-14) 12.2.0');
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1;
    expect(probeDifference(here, other)).toMatch(
      /says GCC: \(Debian 12\.2\.0-14\) 12\.2\.0 as here, but the object code differs/,
    );
  });
});

/**
 * A minimal ELF64 relocatable object: a null section, .shstrtab, .comment (the given string) and a
 * trailing .text byte, laid out as gcc's are (section headers after the data).
 */
function elfObject(comment: string): Uint8Array {
  const shstr = '\0.shstrtab\0.comment\0.text\0';
  const com = `\0${comment}\0`;
  const text = [0xc3];
  const dataStart = 64;
  const shstrOff = dataStart;
  const comOff = shstrOff + shstr.length;
  const textOff = comOff + com.length;
  const shoff = Math.ceil((textOff + text.length) / 8) * 8;
  const buf = new Uint8Array(shoff + 4 * 64);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, 62, true); // x86-64
  v.setUint32(20, 1, true);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x34, 64, true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, 4, true);
  v.setUint16(0x3e, 1, true);
  buf.set(new TextEncoder().encode(shstr), shstrOff);
  buf.set(new TextEncoder().encode(com), comOff);
  buf.set(text, textOff);
  const sh = (i: number, name: number, type: number, off: number, size: number) => {
    const h = shoff + i * 64;
    v.setUint32(h, name, true);
    v.setUint32(h + 4, type, true);
    v.setBigUint64(h + 0x18, BigInt(off), true);
    v.setBigUint64(h + 0x20, BigInt(size), true);
  };
  sh(1, 1, 3, shstrOff, shstr.length);
  sh(2, 11, 1, comOff, com.length);
  sh(3, 20, 1, textOff, text.length);
  return buf;
}
