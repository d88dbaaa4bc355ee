// werift's XOR-MAPPED-ADDRESS coding, which patches/werift+0.24.4.patch rewrites (one copy instead of a Buffer per
// byte): the sample responses of RFC 5769 §2.2 and §2.3 decode to their addresses, and an address written by werift
// reads back the same.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Message, parseMessage } from 'werift';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('werift STUN XOR addresses (patched)', () => {
  it('decodes the RFC 5769 sample IPv4 and IPv6 responses', () => {
    const head = '2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220';
    // The samples' SOFTWARE and XOR-MAPPED-ADDRESS attributes (the header's length without MESSAGE-INTEGRITY and FINGERPRINT).
    const v4 = parseMessage(hex(`0101 001c ${head} 0020 0008 0001a147 e112a643`));
    assert.deepEqual(v4?.getAttributeValue('XOR-MAPPED-ADDRESS'), ['192.0.2.1', 32853]);
    const v6 = parseMessage(hex(`0101 0028 ${head} 0020 0014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9`));
    assert.deepEqual(v6?.getAttributeValue('XOR-MAPPED-ADDRESS'), ['2001:db8:1234:5678:11:2233:4455:6677', 32853]);
  });

  it('reads back what it writes, for IPv4 and IPv6', () => {
    for (const address of [['10.1.2.3', 50000], ['fe80::1:2:3:4', 9]] as const) {
      const m = new Message(0x001, 0x100);
      m.setAttribute('XOR-MAPPED-ADDRESS', [...address]);
      const bytes = m.bytes;
      // The address on the wire is XORed with the cookie and transaction id, not in the clear.
      assert.equal(bytes.includes(Buffer.from([10, 1, 2, 3])), false);
      assert.deepEqual(parseMessage(bytes)?.getAttributeValue('XOR-MAPPED-ADDRESS'), [...address]);
    }
  });
});
