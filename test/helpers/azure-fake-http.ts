import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';

/** One request the fake saw. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * An in-process HttpClient for unit tests: each request is answered by `respond`, or by the next queued reply.
 * Lets tests see exactly what the SDK sends without a server.
 */
export class FakeHttpClient implements HttpClient {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeReply[] = [];

  constructor(private readonly respond?: (request: RecordedRequest, index: number) => FakeReply) {}

  enqueue(...replies: FakeReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const body = typeof request.body === 'string' && request.body !== '' ? JSON.parse(request.body) : undefined;
    const recorded: RecordedRequest = {
      method: request.method,
      url: request.url,
      headers: request.headers.toJSON(),
      body,
    };
    this.requests.push(recorded);
    const reply = this.queue.shift() ?? this.respond?.(recorded, this.requests.length - 1);
    if (!reply) {
      throw new Error(`FakeHttpClient: no reply for ${request.method} ${request.url}`);
    }
    const headers = createHttpHeaders(reply.headers);
    if (reply.body !== undefined && !headers.has('content-type')) {
      headers.set('content-type', 'application/json');
    }
    return {
      request,
      status: reply.status,
      headers,
      ...(reply.body !== undefined ? { bodyAsText: JSON.stringify(reply.body) } : {}),
    };
  }
}
