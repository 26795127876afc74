// The sandbox-safe signing API: workflow code may import this. Key files and randomness are in ./node-keys.
export { allowedSigners } from './allowed-signers';
export { verifyProof, type Keyring, type Proof, type VerifyProofResult } from './proof';
export {
  formatPublicKey,
  parsePublicKey,
  MAX_PUBLIC_KEY_LINE,
  type ParsePublicKeyResult,
  type SshPublicKey,
} from './ssh-key';
export {
  MAX_ARMORED_SIGNATURE,
  SIGNING_NAMESPACE,
  signSshSig,
  verifySshSig,
  type SignSshSigInput,
  type VerifySshSigInput,
  type VerifySshSigResult,
} from './sshsig';
export {
  ACTOR_PATTERN,
  canonicalStatement,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_MAX_LIFETIME_MS,
  MAX_STATEMENT_TEXT,
  parseStatement,
  STATEMENT_ACTIONS,
  statementRefusal,
  type ParseStatementResult,
  type Statement,
  type StatementAction,
  type StatementExpectation,
} from './statement';
