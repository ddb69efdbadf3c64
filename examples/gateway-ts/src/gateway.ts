// Reference gateway in TypeScript for the Modelium brain.
//
// It does what a model-serving gateway does with the brain, with the stubs generated in gen/ts
// (protoc-gen-es) and real gRPC over HTTP/2 (Connect's Node gRPC transport): asks ChooseRuntime
// and ChooseGPU for a model, reports it LOADING then LOADED, reports its traffic, then follows
// WatchRecommendations: unload recommendations (a loaded model idles) and load recommendations
// (pre-warm: a model's next request is expected soon), and their withdrawals; it prints what it
// would unload or load (a real gateway would do it). With --stream unload it follows the
// unload-only WatchUnloadRecommendations instead. When the stream drops it reconnects with exponential backoff and
// resumes from the last (epoch, sequence) it saw, so the brain replays what it missed; a
// stream_reset (the brain restarted, or the cursor left the retained window) makes it drop its
// view and take the fresh snapshot that follows.
//
// It keeps the brain's picture of it true: at start, and whenever a snapshot_end says
// sync_required (the brain restarted and knows nothing of it, or the stream was reset), it calls
// SyncGateway with every model it holds, so that a restarted brain recommends its idle models again.
//
// With --tls-ca (and --tls-cert, --tls-key for mutual TLS) it talks TLS; without, plaintext.
//
// Every action and event is printed as one JSON line on stdout, e.g.
//   {"event":"recommended","kind":"unload","model":"gpt2","epoch":"...","sequence":7,"snapshot":false,...}
//   {"event":"recommended","kind":"load","model":"fn","next_request_time":"2026-11-29T12:41:00Z",...}
//
// Build and run (make client-deps installs the pinned packages):
//   cd examples/gateway-ts && npm run build && node dist/examples/gateway-ts/src/gateway.js --brain localhost:50051

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

import { create, type DescEnum } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import {
  BrainService,
  type GatewayModel,
  GatewayModelSchema,
  type LoadRecommendation,
  ModelState,
  ModelStateSchema,
  WithdrawalCauseSchema,
  type Recommendation,
  type UnloadRecommendation,
  type WatchRecommendationsResponse,
  type WatchUnloadRecommendationsResponse,
} from "../../../gen/ts/modelium/brain/v1/brain_pb.js";

// Errors that no retry can fix: the request itself is wrong.
const permanent = new Set([Code.InvalidArgument, Code.Unimplemented, Code.PermissionDenied, Code.Unauthenticated]);

const started = performance.now();

/** Prints one JSON line: what the gateway did or saw. */
function emit(event: string, fields: Record<string, unknown> = {}): void {
  const t = Math.round(performance.now() - started) / 1000;
  console.log(JSON.stringify({ event, t, ...fields }));
}

/** The proto name of an enum value, e.g. MODEL_STATE_LOADED. */
function enumName(desc: DescEnum, value: number): string {
  return desc.value[value]?.name ?? String(value);
}

/** A Timestamp as RFC 3339 UTC (whole seconds without a fraction), or null when unset. */
function rfc3339(ts: Timestamp | undefined): string | null {
  return ts === undefined ? null : timestampDate(ts).toISOString().replace(".000Z", "Z");
}

/** A recommendation of either stream as its kind and the recommendation of that kind. */
type Kinded = { kind: "unload"; rec: UnloadRecommendation } | { kind: "load"; rec: LoadRecommendation };

/** The kind of a Recommendation (WatchRecommendations) or an UnloadRecommendation
 * (WatchUnloadRecommendations); undefined for a kind newer than these stubs. */
function kinded(rec: Recommendation | UnloadRecommendation | undefined): Kinded | undefined {
  if (rec === undefined) return undefined;
  if (rec.$typeName === "modelium.brain.v1.UnloadRecommendation") return { kind: "unload", rec };
  switch (rec.kind.case) {
    case "unload":
      return { kind: "unload", rec: rec.kind.value };
    case "load":
      return { kind: "load", rec: rec.kind.value };
    default:
      return undefined;
  }
}

interface Options {
  brain: string;
  gatewayId: string;
  model: string;
  requiredBytes: bigint;
  requests: bigint;
  durationMs: number; // 0: no limit
  recommendations: number; // 0: no limit
  stream: "all" | "unload";
  backoffInitialMs: number;
  backoffMaxMs: number;
  streamTimeoutMs: number;
  tlsCA: string; // "" = plaintext
  tlsCert: string;
  tlsKey: string;
}

function parseOptions(): Options {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      brain: { type: "string", default: env.BRAIN_ADDR ?? "localhost:50051" },
      "gateway-id": { type: "string", default: env.GATEWAY_ID ?? "gw-ts" },
      model: { type: "string", default: env.MODEL_NAME ?? "gpt2" },
      "required-bytes": { type: "string", default: String(1 << 30) },
      requests: { type: "string", default: "1" },
      duration: { type: "string", default: env.GATEWAY_DURATION ?? "0" },
      recommendations: { type: "string", default: env.GATEWAY_RECOMMENDATIONS ?? "0" },
      stream: { type: "string", default: env.GATEWAY_STREAM ?? "all" },
      "backoff-initial": { type: "string", default: "0.25" },
      "backoff-max": { type: "string", default: "8" },
      "stream-timeout": { type: "string", default: "15" },
      "tls-ca": { type: "string", default: env.BRAIN_TLS_CA ?? "" },
      "tls-cert": { type: "string", default: env.BRAIN_TLS_CERT ?? "" },
      "tls-key": { type: "string", default: env.BRAIN_TLS_KEY ?? "" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(`usage: gateway [--brain host:port] [--gateway-id ID] [--model NAME] [--required-bytes N]
  [--requests N] [--duration SECONDS] [--recommendations N] [--stream all|unload] [--backoff-initial SECONDS]
  [--backoff-max SECONDS] [--stream-timeout SECONDS] [--tls-ca PEM [--tls-cert PEM --tls-key PEM]]
--stream all follows WatchRecommendations (unload and load), unload WatchUnloadRecommendations.
env: BRAIN_ADDR, GATEWAY_ID, MODEL_NAME, GATEWAY_DURATION, GATEWAY_RECOMMENDATIONS, GATEWAY_STREAM,
  BRAIN_TLS_CA, BRAIN_TLS_CERT, BRAIN_TLS_KEY`);
    process.exit(0);
  }
  const seconds = (s: string) => Math.round(Number(s) * 1000);
  if (values.stream !== "all" && values.stream !== "unload") {
    console.error(`gateway: --stream ${values.stream}: want all or unload`);
    process.exit(2);
  }
  return {
    brain: values.brain,
    gatewayId: values["gateway-id"],
    model: values.model,
    requiredBytes: BigInt(values["required-bytes"]),
    requests: BigInt(values.requests),
    durationMs: seconds(values.duration),
    recommendations: Number(values.recommendations),
    stream: values.stream,
    backoffInitialMs: seconds(values["backoff-initial"]),
    backoffMaxMs: seconds(values["backoff-max"]),
    streamTimeoutMs: seconds(values["stream-timeout"]),
    tlsCA: values["tls-ca"],
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
  };
}

class Gateway {
  private readonly brain: Client<typeof BrainService>;
  // The resume cursor: the last (epoch, sequence) up to which this gateway's view is complete.
  private epoch = "";
  private sequence = 0n;
  // The view: open recommendations by "kind/model", and the distinct ones seen ("epoch/sequence").
  private readonly open = new Map<string, Kinded>();
  private readonly seen = new Set<string>();
  private readonly deadline: number | undefined;
  // What this gateway holds, by model: the truth SyncGateway sends.
  private readonly models = new Map<string, GatewayModel>();

  constructor(private readonly opts: Options) {
    this.brain = createClient(BrainService, transport(opts));
    this.deadline = opts.durationMs > 0 ? Date.now() + opts.durationMs : undefined;
  }

  // --- the unary flow ----------------------------------------------------------------------

  /** Tells the brain everything this gateway holds (SyncGateway), replacing what it knew. */
  async sync(why: string): Promise<void> {
    const resp = await this.brain.syncGateway(
      { gatewayId: this.opts.gatewayId, models: [...this.models.values()] },
      { timeoutMs: 10_000 },
    );
    emit("synced", { why, models: this.models.size, added: resp.added, changed: resp.changed, removed: resp.removed });
  }

  async loadModel(): Promise<void> {
    const { model, gatewayId, requiredBytes } = this.opts;
    const call = { timeoutMs: 10_000 };
    const rt = await this.brain.chooseRuntime({ model: { name: model } }, call);
    emit("runtime_chosen", { model, runtime: rt.runtime, rule: rt.rule, reason: rt.reason });

    const placed = await this.brain.chooseGPU({ modelName: model, gatewayId, requiredBytes, reserve: true }, call);
    emit("gpu_chosen", {
      model,
      gpu_uuid: placed.gpu?.uuid,
      gpu_name: placed.gpu?.name,
      reservation_id: placed.reservationId,
      reason: placed.reason,
    });

    for (const state of [ModelState.LOADING, ModelState.LOADED]) {
      const resp = await this.brain.reportModelState(
        {
          gatewayId,
          modelName: model,
          runtime: rt.runtime,
          gpuUuid: placed.gpu?.uuid ?? "",
          state,
          memoryBytes: requiredBytes,
          reservationId: placed.reservationId,
          observedTime: timestampNow(),
        },
        call,
      );
      emit("state_reported", {
        model,
        state: enumName(ModelStateSchema, state),
        previous_state: enumName(ModelStateSchema, resp.previousState),
      });
      this.models.set(
        model,
        create(GatewayModelSchema, { modelName: model, runtime: rt.runtime, gpuUuid: placed.gpu?.uuid ?? "", state, memoryBytes: requiredBytes }),
      );
    }

    const now = Date.now();
    const traffic = await this.brain.reportTraffic(
      {
        gatewayId,
        samples: [
          { modelName: model, startTime: timestampFromMs(now - 60_000), endTime: timestampFromMs(now), requests: this.opts.requests },
        ],
      },
      call,
    );
    emit("traffic_reported", { model, requests: Number(this.opts.requests), accepted_samples: Number(traffic.acceptedSamples) });
  }

  // --- the recommendation stream -------------------------------------------------------------

  /** Follows the stream until done; resolves to the exit code. */
  async watch(): Promise<number> {
    for (let attempt = 0; ; ) {
      emit("subscribed", { stream: this.opts.stream, resume_epoch: this.epoch, resume_after_sequence: Number(this.sequence) });
      // The watchdog aborts a stream that has been silent too long (heartbeats stopped) or
      // outlived the run.
      const abort = new AbortController();
      let why: "silent" | "deadline" | undefined;
      let last = Date.now();
      const watchdog = setInterval(() => {
        const now = Date.now();
        if (this.deadline !== undefined && now >= this.deadline) why = "deadline";
        else if (now - last > this.opts.streamTimeoutMs) why = "silent";
        else return;
        abort.abort();
      }, 100);
      let code = "OK";
      let detail = "the brain ended the stream";
      try {
        const req = { gatewayId: this.opts.gatewayId, resumeEpoch: this.epoch, resumeAfterSequence: this.sequence };
        const stream: AsyncIterable<WatchRecommendationsResponse | WatchUnloadRecommendationsResponse> =
          this.opts.stream === "unload"
            ? this.brain.watchUnloadRecommendations(req, { signal: abort.signal })
            : this.brain.watchRecommendations(req, { signal: abort.signal });
        for await (const msg of stream) {
          last = Date.now();
          attempt = 0; // the stream works again: the next drop starts the backoff anew
          if (msg.event.case === "snapshotEnd" && msg.event.value.syncRequired) {
            // Sync before handle takes the cursor: if the sync fails, the stream reconnects
            // without one, gets a fresh snapshot, and is told to sync again.
            await this.sync("sync_required");
          }
          if (this.handle(msg)) {
            emit("done", { reason: "recommendations", seen: this.seen.size });
            return 0;
          }
        }
      } catch (err) {
        const ce = ConnectError.from(err);
        code = Code[ce.code];
        detail = ce.rawMessage;
        if (why === "silent") {
          code = "SILENT";
          detail = `no message for ${this.opts.streamTimeoutMs / 1000} s`;
        } else if (why === undefined && permanent.has(ce.code)) {
          emit("failed", { code, detail });
          return 1;
        }
      } finally {
        clearInterval(watchdog);
      }
      if (why === "deadline") {
        emit("done", { reason: "duration", seen: this.seen.size });
        return 0;
      }
      const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt++;
      emit("disconnected", {
        code,
        detail,
        retry_in_ms: Math.round(delay),
        resume_epoch: this.epoch,
        resume_after_sequence: Number(this.sequence),
      });
      if (this.deadline !== undefined && Date.now() + delay >= this.deadline) {
        emit("done", { reason: "duration", seen: this.seen.size });
        return 0;
      }
      await sleep(delay);
    }
  }

  /** Applies one stream message to the view and the cursor; true once enough were seen. */
  private handle(msg: WatchRecommendationsResponse | WatchUnloadRecommendationsResponse): boolean {
    const where = { epoch: msg.epoch, sequence: Number(msg.sequence) };
    // Without a cursor (a first subscription, or after a reset) the messages before snapshot_end
    // are the snapshot: they carry their original sequences and must not move the cursor.
    const snapshot = this.epoch === "";
    const ev = msg.event;
    switch (ev.case) {
      case "streamReset":
        // The brain cannot replay what we missed: forget the view, a fresh snapshot follows.
        this.open.clear();
        this.epoch = "";
        this.sequence = 0n;
        emit("stream_reset", { reason: ev.value.reason, ...where });
        return false;
      case "snapshotEnd":
        this.epoch = msg.epoch;
        this.sequence = msg.sequence;
        emit("snapshot_end", { open: Number(ev.value.openRecommendations), sync_required: ev.value.syncRequired, ...where });
        return false;
      case "heartbeat":
        // A heartbeat carries the sequence the stream is complete up to: resuming from it is exact.
        if (!snapshot) this.sequence = msg.sequence;
        emit("heartbeat", where);
        return false;
      case "recommended": {
        const k = kinded(ev.value);
        if (k === undefined) break; // a kind newer than these stubs: nothing to do, the cursor moves on
        const rec = k.rec;
        this.open.set(`${k.kind}/${rec.modelName}`, k);
        this.seen.add(`${msg.epoch}/${msg.sequence}`);
        // What a real gateway would do now: unload the idle model, or load the model on the GPU
        // and runtime it last had so that its expected request finds it resident.
        emit("recommended", {
          kind: k.kind,
          model: rec.modelName,
          gateway_id: rec.gatewayId,
          gpu_uuid: rec.gpuUuid,
          runtime: rec.runtime,
          rule: rec.rule,
          reason: rec.reason,
          next_request_time: rfc3339(rec.expectedNextRequestTime),
          confidence: rec.confidence,
          action: `would ${k.kind} ${rec.modelName}` + (rec.gpuUuid ? ` on ${rec.gpuUuid}` : ""),
          snapshot,
          ...where,
        });
        break;
      }
      case "withdrawn": {
        const k = kinded(ev.value.recommendation);
        if (k === undefined) break;
        const model = k.rec.modelName;
        this.open.delete(`${k.kind}/${model}`); // a withdrawal of one we never held is fine to ignore
        emit("withdrawn", {
          kind: k.kind,
          model,
          cause: enumName(WithdrawalCauseSchema, ev.value.cause),
          reason: ev.value.reason,
          snapshot,
          ...where,
        });
        break;
      }
      case undefined:
        return false; // an event kind newer than these stubs
    }
    if (!snapshot) {
      this.epoch = msg.epoch;
      this.sequence = msg.sequence;
    }
    return this.opts.recommendations > 0 && this.seen.size >= this.opts.recommendations;
  }
}

/** Plaintext gRPC, or TLS with --tls-ca (mutual with --tls-cert and --tls-key). */
function transport(opts: Options) {
  if (opts.tlsCA === "" && opts.tlsCert === "") {
    return createGrpcTransport({ baseUrl: `http://${opts.brain}` });
  }
  if ((opts.tlsCert === "") !== (opts.tlsKey === "")) {
    throw new Error("--tls-cert and --tls-key go together");
  }
  const read = (path: string) => (path === "" ? undefined : readFileSync(path));
  return createGrpcTransport({
    baseUrl: `https://${opts.brain}`,
    nodeOptions: { ca: read(opts.tlsCA), cert: read(opts.tlsCert), key: read(opts.tlsKey) },
  });
}

async function main(): Promise<number> {
  const opts = parseOptions();
  const gw = new Gateway(opts);
  emit("started", { brain: opts.brain, gateway_id: opts.gatewayId, model: opts.model, stream: opts.stream });
  try {
    await gw.sync("start");
    await gw.loadModel();
    return await gw.watch();
  } catch (err) {
    const ce = ConnectError.from(err);
    emit("failed", { code: Code[ce.code], detail: ce.rawMessage });
    return 1;
  }
}

// Exit explicitly: the transport keeps an idle HTTP/2 session open. (Writes to a pipe or file are
// synchronous on Linux, so every line is out.)
process.exit(await main());
