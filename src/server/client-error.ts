// A refusal in App Services' shape ({ error, error_code } with an HTTP status), thrown by the
// client API's routes and by HTTPS endpoint requests alike.
export class ClientError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
