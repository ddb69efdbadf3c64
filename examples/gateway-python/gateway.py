#!/usr/bin/python3
"""Reference gateway in Python for the Modelium brain.

It does what a model-serving gateway does with the brain, with the stubs generated in gen/python:
asks ChooseRuntime and ChooseGPU for a model, reports it LOADING then LOADED, reports its traffic,
then follows WatchRecommendations: unload recommendations (a loaded model idles) and load
recommendations (pre-warm: a model's next request is expected soon), and their withdrawals; it prints
what it would unload or load (a real gateway would do it). With --stream unload it follows the
unload-only WatchUnloadRecommendations instead. When the stream drops it reconnects with exponential
backoff and resumes from the last (epoch, sequence) it saw, so the brain replays what it missed; a
stream_reset (the brain restarted, or the cursor left the retained window) makes it drop its view
and take the fresh snapshot that follows.

It keeps the brain's picture of it true: at start, and whenever a snapshot_end says sync_required
(the brain restarted and knows nothing of it, or the stream was reset), it calls SyncGateway with
every model it holds, so that a restarted brain recommends its idle models again.

With --tls-ca (and --tls-cert, --tls-key for mutual TLS) it talks TLS; without, plaintext.

Every action and event is printed as one JSON line on stdout, e.g.
  {"event": "recommended", "kind": "unload", "model": "gpt2", "epoch": "...", "sequence": 7, "snapshot": false, ...}
  {"event": "recommended", "kind": "load", "model": "fn", "next_request_time": "2026-11-29T12:41:00Z", ...}

Run from the repository root, with Debian's python3-grpcio and python3-protobuf (make client-deps):
  PYTHONPATH=gen/python /usr/bin/python3 examples/gateway-python/gateway.py --brain localhost:50051
"""

import argparse
import json
import os
import random
import sys
import threading
import time

try:
    import grpc
    from google.protobuf.timestamp_pb2 import Timestamp

    from modelium.brain.v1 import brain_pb2 as pb
    from modelium.brain.v1 import brain_pb2_grpc as pb_grpc
except ImportError as err:  # pragma: no cover - an environment problem, said plainly
    sys.exit(
        f"gateway.py: {err}: needs Debian's python3-grpcio and python3-protobuf (make client-deps) "
        "and the generated stubs on the path (PYTHONPATH=gen/python)"
    )

# Errors that no retry can fix: the request itself is wrong.
PERMANENT = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
}

# Unary calls wait for the brain to be reachable (it may be starting), up to 10 s.
UNARY = {"timeout": 10, "wait_for_ready": True}

_started = time.monotonic()


def emit(event, **fields):
    """Prints one JSON line: what the gateway did or saw."""
    line = {"event": event, "t": round(time.monotonic() - _started, 3)}
    line.update(fields)
    print(json.dumps(line), flush=True)


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--brain", default=env("BRAIN_ADDR", "localhost:50051"), help="brain address host:port [$BRAIN_ADDR]")
    p.add_argument("--gateway-id", default=env("GATEWAY_ID", "gw-python"), help="this gateway's id [$GATEWAY_ID]")
    p.add_argument("--model", default=env("MODEL_NAME", "gpt2"), help="model to place and load [$MODEL_NAME]")
    p.add_argument("--required-bytes", type=int, default=1 << 30, help="memory the model needs on a GPU")
    p.add_argument("--requests", type=int, default=1, help="requests in the one traffic sample reported (over the last minute)")
    p.add_argument("--duration", type=float, default=float(env("GATEWAY_DURATION", "0")),
                   help="seconds to run; 0 = until --recommendations are seen or forever [$GATEWAY_DURATION]")
    p.add_argument("--recommendations", type=int, default=int(env("GATEWAY_RECOMMENDATIONS", "0")),
                   help="exit after this many distinct recommendations; 0 = no limit [$GATEWAY_RECOMMENDATIONS]")
    p.add_argument("--stream", choices=("all", "unload"), default=env("GATEWAY_STREAM", "all"),
                   help="all: WatchRecommendations (unload and load); unload: WatchUnloadRecommendations [$GATEWAY_STREAM]")
    p.add_argument("--backoff-initial", type=float, default=0.25, help="first reconnect delay, seconds")
    p.add_argument("--backoff-max", type=float, default=8.0, help="longest reconnect delay, seconds")
    p.add_argument("--stream-timeout", type=float, default=15.0,
                   help="seconds without any message (heartbeats included) after which the stream counts as dead")
    p.add_argument("--tls-ca", default=env("BRAIN_TLS_CA", ""), help="PEM CA that signed the brain's certificate; enables TLS [$BRAIN_TLS_CA]")
    p.add_argument("--tls-cert", default=env("BRAIN_TLS_CERT", ""), help="PEM client certificate, for mutual TLS [$BRAIN_TLS_CERT]")
    p.add_argument("--tls-key", default=env("BRAIN_TLS_KEY", ""), help="PEM key of --tls-cert [$BRAIN_TLS_KEY]")
    p.add_argument("--tls-server-name", default="", help="name to verify the brain's certificate against (default: the host of --brain)")
    return p.parse_args(argv)


def read_file(path):
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


def open_channel(args, options):
    """A plaintext channel, or TLS with --tls-ca (mutual with --tls-cert and --tls-key)."""
    if not args.tls_ca and not args.tls_cert:
        return grpc.insecure_channel(args.brain, options=options)
    if bool(args.tls_cert) != bool(args.tls_key):
        sys.exit("gateway.py: --tls-cert and --tls-key go together")
    creds = grpc.ssl_channel_credentials(
        root_certificates=read_file(args.tls_ca),
        private_key=read_file(args.tls_key),
        certificate_chain=read_file(args.tls_cert))
    if args.tls_server_name:
        options = options + [("grpc.ssl_target_name_override", args.tls_server_name)]
    return grpc.secure_channel(args.brain, creds, options=options)


def rfc3339(ts):
    """A Timestamp as RFC 3339 UTC, or None when unset."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return None
    return ts.ToJsonString()


def recommendation(rec):
    """(kind, the recommendation of that kind) of a Recommendation (WatchRecommendations) or an
    UnloadRecommendation (WatchUnloadRecommendations)."""
    if isinstance(rec, pb.Recommendation):
        kind = rec.WhichOneof("kind")  # "unload" or "load"; None: a kind newer than these stubs
        return kind, getattr(rec, kind) if kind else None
    return "unload", rec


def timestamp(seconds_ago=0.0):
    ts = Timestamp()
    ts.FromNanoseconds(time.time_ns() - int(seconds_ago * 1e9))
    return ts


class Gateway:
    def __init__(self, args):
        self.args = args
        # Reconnects of the channel itself are quick; the watch loop below does its own backoff.
        self.channel = open_channel(args, [
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ])
        self.brain = pb_grpc.BrainServiceStub(self.channel)
        # The resume cursor: the last (epoch, sequence) up to which this gateway's view is complete.
        self.epoch = ""
        self.sequence = 0
        # The view: open recommendations by (kind, model), and the distinct ones seen (epoch, sequence).
        self.open = {}
        self.seen = set()
        self.deadline = time.monotonic() + args.duration if args.duration > 0 else None
        # What this gateway holds: model name -> GatewayModel, the truth SyncGateway sends.
        self.models = {}

    # --- the unary flow ----------------------------------------------------------------------

    def sync(self, why):
        """Tells the brain everything this gateway holds (SyncGateway), replacing what it knew."""
        resp = self.brain.SyncGateway(pb.SyncGatewayRequest(
            gateway_id=self.args.gateway_id, models=list(self.models.values())), **UNARY)
        emit("synced", why=why, models=len(self.models), added=list(resp.added),
             changed=list(resp.changed), removed=list(resp.removed))

    def load_model(self):
        a = self.args
        rt = self.brain.ChooseRuntime(pb.ChooseRuntimeRequest(model=pb.ModelSpec(name=a.model)), **UNARY)
        emit("runtime_chosen", model=a.model, runtime=rt.runtime, rule=rt.rule, reason=rt.reason)

        gpu = self.brain.ChooseGPU(pb.ChooseGPURequest(
            model_name=a.model, gateway_id=a.gateway_id, required_bytes=a.required_bytes, reserve=True), **UNARY)
        emit("gpu_chosen", model=a.model, gpu_uuid=gpu.gpu.uuid, gpu_name=gpu.gpu.name,
             reservation_id=gpu.reservation_id, reason=gpu.reason)

        for state in (pb.MODEL_STATE_LOADING, pb.MODEL_STATE_LOADED):
            resp = self.brain.ReportModelState(pb.ReportModelStateRequest(
                gateway_id=a.gateway_id, model_name=a.model, runtime=rt.runtime, gpu_uuid=gpu.gpu.uuid,
                state=state, memory_bytes=a.required_bytes, reservation_id=gpu.reservation_id,
                observed_time=timestamp()), **UNARY)
            emit("state_reported", model=a.model, state=pb.ModelState.Name(state),
                 previous_state=pb.ModelState.Name(resp.previous_state))
            self.models[a.model] = pb.GatewayModel(
                model_name=a.model, runtime=rt.runtime, gpu_uuid=gpu.gpu.uuid, state=state, memory_bytes=a.required_bytes)

        traffic = self.brain.ReportTraffic(pb.ReportTrafficRequest(gateway_id=a.gateway_id, samples=[
            pb.TrafficSample(model_name=a.model, start_time=timestamp(60), end_time=timestamp(), requests=a.requests),
        ]), **UNARY)
        emit("traffic_reported", model=a.model, requests=a.requests, accepted_samples=traffic.accepted_samples)

    # --- the recommendation stream -------------------------------------------------------------

    def watch(self):
        """Follows the stream until done; returns the exit code."""
        attempt = 0
        while True:
            emit("subscribed", stream=self.args.stream, resume_epoch=self.epoch, resume_after_sequence=self.sequence)
            # wait_for_ready: while the connection is down the call waits for the channel to
            # reconnect (its own backoff) instead of failing at once; the watchdog bounds the wait.
            if self.args.stream == "unload":
                call = self.brain.WatchUnloadRecommendations(pb.WatchUnloadRecommendationsRequest(
                    gateway_id=self.args.gateway_id, resume_epoch=self.epoch, resume_after_sequence=self.sequence),
                    wait_for_ready=True)
            else:
                call = self.brain.WatchRecommendations(pb.WatchRecommendationsRequest(
                    gateway_id=self.args.gateway_id, resume_epoch=self.epoch, resume_after_sequence=self.sequence),
                    wait_for_ready=True)
            watchdog = Watchdog(call, self.args.stream_timeout, self.deadline)
            try:
                for msg in call:
                    watchdog.saw_message()
                    attempt = 0  # the stream works again: the next drop starts the backoff anew
                    if self.handle(msg):
                        emit("done", reason="recommendations", seen=len(self.seen))
                        return 0
                code, detail = "OK", "the brain ended the stream"
            except grpc.RpcError as err:
                code, detail = err.code().name, err.details()
                if watchdog.reason:
                    code, detail = watchdog.reason, watchdog.reason_detail
                elif err.code() in PERMANENT:
                    emit("failed", code=code, detail=detail)
                    return 1
            finally:
                watchdog.stop()
            if watchdog.reason == "deadline":
                emit("done", reason="duration", seen=len(self.seen))
                return 0
            delay = min(self.args.backoff_max, self.args.backoff_initial * 2 ** attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            emit("disconnected", code=code, detail=detail, retry_in_ms=int(delay * 1000),
                 resume_epoch=self.epoch, resume_after_sequence=self.sequence)
            if self.deadline is not None and time.monotonic() + delay >= self.deadline:
                emit("done", reason="duration", seen=len(self.seen))
                return 0
            time.sleep(delay)

    def handle(self, msg):
        """Applies one stream message to the view and the cursor; True once enough were seen."""
        kind = msg.WhichOneof("event")
        where = {"epoch": msg.epoch, "sequence": msg.sequence}
        if kind == "stream_reset":
            # The brain cannot replay what we missed: forget the view, a fresh snapshot follows.
            self.open.clear()
            self.epoch, self.sequence = "", 0
            emit("stream_reset", reason=msg.stream_reset.reason, **where)
            return False
        if kind == "snapshot_end":
            emit("snapshot_end", open=msg.snapshot_end.open_recommendations,
                 sync_required=msg.snapshot_end.sync_required, **where)
            # Sync before taking the cursor: if the sync fails, the stream reconnects without one,
            # gets a fresh snapshot, and is told to sync again.
            if msg.snapshot_end.sync_required:
                self.sync("sync_required")
            self.epoch, self.sequence = msg.epoch, msg.sequence
            return False
        if kind == "heartbeat":
            # A heartbeat carries the sequence the stream is complete up to: resuming from it is exact.
            if self.epoch:
                self.epoch, self.sequence = msg.epoch, msg.sequence
            emit("heartbeat", **where)
            return False
        # Without a cursor (a first subscription, or after a reset) the messages before snapshot_end
        # are the snapshot: they carry their original sequences and must not move the cursor.
        snapshot = not self.epoch
        if kind == "recommended":
            what, rec = recommendation(msg.recommended)
            if rec is not None:
                self.open[(what, rec.model_name)] = rec
                self.seen.add((msg.epoch, msg.sequence))
                # What a real gateway would do now: unload the idle model, or load the model on the
                # GPU and runtime it last had so that its expected request finds it resident.
                emit("recommended", kind=what, model=rec.model_name, gateway_id=rec.gateway_id,
                     gpu_uuid=rec.gpu_uuid, runtime=rec.runtime, rule=rec.rule, reason=rec.reason,
                     next_request_time=rfc3339(rec.expected_next_request_time) if rec.HasField("expected_next_request_time") else None,
                     confidence=rec.confidence,
                     action=f"would {what} {rec.model_name}" + (f" on {rec.gpu_uuid}" if rec.gpu_uuid else ""),
                     snapshot=snapshot, **where)
        elif kind == "withdrawn":
            what, rec = recommendation(msg.withdrawn.recommendation)
            if rec is not None:
                self.open.pop((what, rec.model_name), None)  # a withdrawal of one we never held is fine to ignore
                emit("withdrawn", kind=what, model=rec.model_name, cause=pb.WithdrawalCause.Name(msg.withdrawn.cause),
                     reason=msg.withdrawn.reason, snapshot=snapshot, **where)
        if not snapshot:
            self.epoch, self.sequence = msg.epoch, msg.sequence
        return 0 < self.args.recommendations <= len(self.seen)


class Watchdog:
    """Cancels a stream that has been silent too long (heartbeats stopped) or outlived the run."""

    def __init__(self, call, silence, deadline):
        self.call, self.silence, self.deadline = call, silence, deadline
        self.last = time.monotonic()
        self.reason = self.reason_detail = None
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def saw_message(self):
        self.last = time.monotonic()

    def stop(self):
        self._stop.set()

    def _run(self):
        while not self._stop.wait(0.1):
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline:
                self.reason, self.reason_detail = "deadline", "the run's --duration is over"
            elif now - self.last > self.silence:
                self.reason, self.reason_detail = "SILENT", f"no message for {self.silence:g} s"
            else:
                continue
            self.call.cancel()
            return


def main(argv=None):
    args = parse_args(argv)
    gw = Gateway(args)
    emit("started", brain=args.brain, gateway_id=args.gateway_id, model=args.model, stream=args.stream)
    try:
        gw.sync("start")
        gw.load_model()
        return gw.watch()
    except grpc.RpcError as err:
        emit("failed", code=err.code().name, detail=err.details())
        return 1
    except KeyboardInterrupt:
        emit("done", reason="interrupted", seen=len(gw.seen))
        return 130
    finally:
        gw.channel.close()


if __name__ == "__main__":
    sys.exit(main())
