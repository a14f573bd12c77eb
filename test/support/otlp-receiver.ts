import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

/**
 * The part of OTLP's trace export request a test reads, with the field numbers of
 * https://github.com/open-telemetry/opentelemetry-proto (collector/trace/v1/trace_service.proto,
 * trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto); protobuf skips the
 * fields left out.
 */
const OTLP_TRACES = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  SpanKind kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; Status status = 15;
}
enum SpanKind { UNSPECIFIED = 0; INTERNAL = 1; SERVER = 2; CLIENT = 3; PRODUCER = 4; CONSUMER = 5; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;
const ExportRequest = protobuf.parse(OTLP_TRACES).root.lookupType('ExportTraceServiceRequest');

/** A span as the tests read it, whichever encoding it came in. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 2 server, 3 client (OTLP's numbers). */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: Array<{ name: string; attributes: Record<string, string | number | boolean> }>;
  status: { code: number; message?: string };
  scope: string;
  resource: Record<string, string | number | boolean>;
}

type Wire = Record<string, unknown>;
const hex = (value: unknown) => (typeof value === 'string' ? value : Buffer.from((value as Uint8Array) ?? []).toString('hex'));
function attributesOf(list: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of (list as Array<{ key: string; value: Wire }>) ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue;
    // int64 arrives as a string (protobuf's longs: String, and OTLP/JSON's rule) or a number.
    out[key] = v !== undefined ? (v as string | number | boolean) : Number(value.intValue);
  }
  return out;
}

/** OTLP/HTTP's JSON and protobuf share field names (JSON in lowerCamelCase, ids in hex). */
function spansOf(request: Wire): ReceivedSpan[] {
  return ((request.resourceSpans as Wire[]) ?? []).flatMap((rs) =>
    ((rs.scopeSpans as Wire[]) ?? []).flatMap((ss) =>
      ((ss.spans as Wire[]) ?? []).map((s) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        name: s.name as string,
        kind: typeof s.kind === 'string' ? ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT'].indexOf(s.kind) : Number(s.kind),
        attributes: attributesOf(s.attributes),
        events: ((s.events as Wire[]) ?? []).map((e) => ({ name: e.name as string, attributes: attributesOf(e.attributes) })),
        status: { code: Number((s.status as Wire | undefined)?.code ?? 0), message: (s.status as Wire | undefined)?.message as string },
        scope: ((ss.scope as Wire | undefined)?.name as string) ?? '',
        resource: attributesOf((rs.resource as Wire | undefined)?.attributes),
      })),
    ),
  );
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An OTLP/HTTP traces receiver on the loopback: JSON and protobuf, every span kept. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  readonly headers: Array<Record<string, string | string[] | undefined>> = [];
  private readonly server: Server = createServer((req, res) => void this.receive(req, res));
  url = '';

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await bodyOf(req);
    const type = req.headers['content-type'] ?? '';
    const json = type.startsWith('application/json');
    this.contentTypes.add(type);
    this.headers.push(req.headers);
    const decoded = json
      ? (JSON.parse(body.toString('utf8')) as Wire)
      : ExportRequest.toObject(ExportRequest.decode(body), { longs: String, enums: Number, bytes: Buffer });
    this.spans.push(...spansOf(decoded));
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : '');
  }
}
