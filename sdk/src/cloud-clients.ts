/**
 * Small adapters for the cloud providers' own SDKs pointed at the BYO proxy: they present your
 * BYO secret key where those SDKs expect a cloud credential, and name the customer.
 */

/**
 * A Google auth client for `AnthropicVertex` (`authClient`) and `@google/genai` in Vertex mode
 * (`googleAuthOptions: { authClient }`): every request carries `Authorization: Bearer
 * <BYO secret key>`. BYO mints the customer's Google token itself; yours never leaves your
 * backend as anything but a BYO key.
 */
export interface BYOGoogleAuthClient {
  getRequestHeaders(url?: string | URL): Promise<Headers>;
  getAccessToken(): Promise<{ token: string }>;
}

// The return type is loose on purpose: both SDKs type `authClient` as google-auth-library's
// AuthClient class, which this small object stands in for without depending on that library.
export function googleAuthClient(secretKey: string): BYOGoogleAuthClient & any {
  if (!secretKey?.startsWith('byo_sk_')) throw new TypeError('googleAuthClient() takes your BYO secret key (byo_sk_...).');
  return {
    getRequestHeaders: async () => new Headers({ authorization: `Bearer ${secretKey}` }),
    getAccessToken: async () => ({ token: secretKey }),
  };
}

/** The part of an AWS SDK v3 client this needs (any `@aws-sdk/client-*` client has it). */
interface AwsSdkClient {
  middlewareStack: { add(middleware: unknown, options: { step: 'build'; name: string; override?: boolean }): void };
}

/**
 * Names the customer on every call of an AWS SDK v3 client (`BedrockRuntimeClient`): adds
 * `X-BYO-Ref-Id: <refId>`, which the AWS SDK has no option for. Returns the client.
 */
export function withRefId<C extends AwsSdkClient>(client: C, refId: string): C {
  client.middlewareStack.add(
    (next: (args: { request: { headers: Record<string, string> } }) => Promise<unknown>) =>
      (args: { request: { headers: Record<string, string> } }) => {
        args.request.headers['x-byo-ref-id'] = refId;
        return next(args);
      },
    { step: 'build', name: 'byoRefId', override: true },
  );
  return client;
}
