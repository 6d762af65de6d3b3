/** An error BYO answers in a provider's own wire shape (see error-body.ts). */
export interface ShapedError {
  status: number;
  message: string;
  /** BYO's error code (or the provider's, for sandbox answers). */
  code: string;
  /** Overrides the provider `type` / `status` derived from the HTTP status. */
  type?: string;
  requestId?: string;
}
