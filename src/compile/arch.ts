/** `uname -m` names (the kernelfile's `kernel.arch`) to the kernel's ARCH= and back. */

const KERNEL_ARCH: Record<string, string> = {
  x86_64: 'x86_64', // ARCH=x86_64 (not x86): makes tinyconfig and allnoconfig 64-bit
  i686: 'i386',
  aarch64: 'arm64',
  armv7l: 'arm',
  riscv64: 'riscv',
  ppc64le: 'powerpc',
  s390x: 's390',
  loongarch64: 'loongarch',
};

/** The ARCH= value for make. */
export function kernelArch(machine: string): string {
  const a = KERNEL_ARCH[machine];
  if (!a) throw new Error(`unsupported architecture ${machine}`);
  return a;
}

/** The directory under arch/ (SRCARCH) that holds the architecture's Kconfig and headers. */
export function srcArch(machine: string): string {
  const a = kernelArch(machine);
  return a === 'x86_64' || a === 'i386' ? 'x86' : a;
}
