/** `kernelfile facts` text: the Secure Boot rows (host strings escaped). */
import { describe, expect, it } from 'vitest';
import { renderFacts } from '../../../src/render/facts-text.js';
import { plain } from '../../../src/render/style.js';
import { loadCase } from '../../helpers/plan-fixtures.js';

describe('facts text: Secure Boot', () => {
  const facts = structuredClone(loadCase('fresh-grub').facts);

  it('the state, the enrolled and pending fingerprints with colons, and the dkms key (escaped)', () => {
    facts.secureboot = {
      state: 'enabled',
      source: 'efivars',
      shimValidationDisabled: false,
      mokutil: '/usr/bin/mokutil',
      enrolled: { sha1: ['aa'.repeat(20)], hashes: 1 },
      pending: { sha1: [], hashes: 0 },
      dkms: {
        from: '/etc/dkms/framework.conf',
        key: '/var/lib/dkms/mok\u001b[31m.key',
        certificate: '/var/lib/dkms/mok.pub',
        keyExists: true,
        certificateExists: false,
        certificateSha1: null,
      },
    };
    const text = renderFacts(facts, plain);
    expect(text).toContain('Secure Boot: on (only modules signed by an enrolled key load)\n');
    expect(text).toContain(`  enrolled MOKs: 1 certificates, 1 hashes\n    ${'aa:'.repeat(19)}aa\n`);
    expect(text).toContain('  pending enrolment (next boot): none\n');
    expect(text).toContain(
      'dkms signs with: /var/lib/dkms/mok\\x1b[31m.key, /var/lib/dkms/mok.pub (missing)',
    );
    expect(text).not.toContain('\u001b');
  });

  it('not EFI, and facts without the family: no Secure Boot row', () => {
    facts.secureboot = {
      ...(facts.secureboot as NonNullable<typeof facts.secureboot>),
      state: 'not-efi',
      enrolled: null,
      pending: null,
      mokutil: null,
    };
    expect(renderFacts(facts, plain)).toContain('Secure Boot: off (not booted through UEFI)\n');
    facts.secureboot = undefined;
    expect(renderFacts(facts, plain)).not.toContain('Secure Boot');
  });
});
