export type DataPlaneErrorCode =
  | 'InvalidArgument'
  | 'DatabaseNotFound'
  | 'PrivateEndpointNotFound'
  | 'DatabaseStopped'
  | 'StartFailed'
  | 'StopFailed'
  | 'Closed';

/** Thrown by the data plane; `code` says which of its rules was broken or which step failed. */
export class DataPlaneError extends Error {
  override readonly name = 'DataPlaneError';

  constructor(
    readonly code: DataPlaneErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
