import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * Why a checkpoint was signed: `periodic` ones vouch for the chain as it grew; `retention`
 * ones mark a cut retention made, and only they may anchor a chain whose start is gone.
 */
export const CHECKPOINT_KINDS = ['periodic', 'retention'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

export interface CheckpointClaim {
  tenantId: string;
  seq: number;
  hash: string;
  signedAt: string;
  kind: CheckpointKind;
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

/**
 * What is signed. A periodic checkpoint's message is the one checkpoints always had, so those
 * signed before kinds existed still verify; a retention checkpoint's also names its kind, so
 * neither can be passed off as the other without breaking its signature.
 */
function message({ tenantId, seq, hash, signedAt, kind }: CheckpointClaim): Buffer {
  const claim = { tenantId, seq, hash, signedAt, ...(kind === 'periodic' ? {} : { kind }) };
  return Buffer.from(canonicalJson(claim), 'utf8');
}
