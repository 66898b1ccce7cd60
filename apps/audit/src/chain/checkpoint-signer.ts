import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';

export interface CheckpointClaim {
  tenantId: string;
  seq: number;
  hash: string;
  signedAt: string;
}

export interface SignedCheckpoint extends CheckpointClaim {
  keyId: string;
  signature: string;
}

/**
 * Signs checkpoints of a tenant's chain with Ed25519: whoever holds the public key can tell
 * that the chain reached `hash` at `seq` by `signedAt`, so rewriting the events before it and
 * recomputing every hash is still caught.
 */
export class CheckpointSigner {
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  readonly keyId: string;

  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error('the checkpoint key must be an Ed25519 private key');
    }
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = createHash('sha256')
      .update(this.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16);
  }

  sign(claim: CheckpointClaim): SignedCheckpoint {
    const signature = sign(null, message(claim), this.privateKey).toString('base64');
    return { ...claim, keyId: this.keyId, signature };
  }

  verify(checkpoint: SignedCheckpoint): boolean {
    if (checkpoint.keyId !== this.keyId) return false;
    try {
      return verify(
        null,
        message(checkpoint),
        this.publicKey,
        Buffer.from(checkpoint.signature, 'base64'),
      );
    } catch {
      return false;
    }
  }
}

function message({ tenantId, seq, hash, signedAt }: CheckpointClaim): Buffer {
  return Buffer.from(canonicalJson({ tenantId, seq, hash, signedAt }), 'utf8');
}
