// Package metrics holds the brain's observations of the models that gateways serve: where each
// model is loaded and in what lifecycle state (per gateway), and how busy it is (QPS over the last
// 1 and 5 minutes, last request, requests in flight). It also exposes those observations and the
// brain's own counters to Prometheus.
//
// The package decides nothing: it does not know the unload policy (package rules does) or the
// wire format (package server translates). Time comes from an injected clock so that idle times
// and windows are exact in tests.
//
// # Lifecycle
//
// [Tracker.ReportState] records the state of a model on one gateway. Every report is accepted;
// one that makes no sense after the previous state (see [ExpectedTransition]) is flagged and
// counted, so a gateway that re-reports its full state after a reconnect or a brain restart
// converges to what it reports. Re-reporting the current state is never unexpected and changes no
// timestamp.
//
// # Traffic
//
// [Tracker.ReportTraffic] takes a batch of samples, validates all of them, and applies all or none.
// Per model the tracker keeps a fixed ring of 60 buckets of 5 seconds (300 s, 240 bytes): a sample
// spanning several buckets spreads its requests over them in proportion to the time it overlaps
// each, samples arriving out of order land in the buckets they cover, and samples older than the
// ring only add to the totals, the last request time and the in-flight value. The wire has no
// idempotency key, so a batch sent twice is counted twice.
//
// A bucket counts in the 1-minute window while now is less than 60 s after the bucket's start (5
// minutes: 300 s): a request leaves a window between 55 and 60 s (295 and 300 s) after it was
// made. QPS is the window's requests divided by the window's full length, also while the brain has
// been up for less than that; so a steady rate reads up to one bucket low (1/12 of the 1-minute
// rate) until the current bucket fills.
//
// # Idle time
//
// Idle time is now minus the latest of: the last request, the time the model last became LOADED,
// and the brain's start. A model never requested is idle since it was loaded, never infinitely;
// after a brain restart no model is idle longer than the brain has been up. A model that was
// neither loaded nor requested is idle since it was first reported.
//
// # Reading
//
// [Tracker.Model] and [Tracker.Models] serve ListModels; [Tracker.AppendLoaded] gives the unload
// evaluator every LOADED (model, gateway) pair in one pass (about 10 ms for 100,000 on a 2-core
// VM), into a slice it reuses, so that no lock is held while it decides.
//
// # Concurrency
//
// One RWMutex guards the tracker. A batch is checked for field errors before the lock is taken,
// then checked against the caps and applied under it, which keeps batches all or nothing without
// a two-phase protocol across shards. Measured with BenchmarkReportTrafficParallel, concurrent
// gateways get at least the single-gateway throughput (millions of samples a second), so sharding
// is not worth its complexity yet.
//
// # Prometheus
//
// [NewRecorder] registers, on a registry the caller provides, a collector that reads the tracker at
// scrape time (the report paths do no per-model metric work) and the counters that the server
// increments for decisions, recommendations and watch subscribers. Every label value comes from a
// bounded set; per-model series are capped (see [RecorderConfig.MaxModelSeries]).
package metrics
