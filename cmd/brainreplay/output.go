package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTable prints one run's figures, each with what it means.
func writeTable(w io.Writer, r *report) error {
	head := func(label, value string) { fmt.Fprintf(w, "%-10s %s\n", label, value) }
	head("trace", fmt.Sprintf("%s (%s), %s", r.Trace, r.Layout, rowsText(r)))
	head("models", fmt.Sprintf("%s over %s minutes, %s requests in %s invocation minutes",
		group(int64(r.Models)), group(int64(r.Minutes)), group(r.Requests), group(r.InvocationMinutes)))
	head("policy", policyLine(r))
	fmt.Fprintln(w)
	row := func(label, v, meaning string) { fmt.Fprintf(w, "%-18s %11s   %s\n", label, v, meaning) }
	row("cold starts", group(r.ColdStarts), "invocation minutes whose model was not loaded")
	row("warm starts", group(r.WarmStarts), "invocation minutes whose model was loaded")
	row("loads", group(r.Loads), fmt.Sprintf("cold starts + %s pre-warm loads", group(r.PrewarmLoads)))
	row("unloads", group(r.Unloads), "unload recommendations carried out")
	row("idle model-minutes", group(r.IdleModelMinutes), "minutes a model was loaded without a request")
	if r.Memory != "" {
		row("idle GB-h", group(int64(r.IdleGBHours+0.5)), "idle MB-minutes / 1024 / 60, memory from "+r.Memory)
	}
	row("cycles", group(r.Cycles), fmt.Sprintf("evaluation cycles run, in %.2f s", r.WallSeconds))
	if r.ModelsWithoutMemory > 0 {
		fmt.Fprintf(w, "\nnote: %d models have no row in the memory file; they count 0 MB\n", r.ModelsWithoutMemory)
	}
	return nil
}

// writeSweepTable prints one line per run.
func writeSweepTable(w io.Writer, reports []*report) error {
	r0 := reports[0]
	fmt.Fprintf(w, "%s (%s), %s: %s models over %s minutes\n\n", r0.Trace, r0.Layout, rowsText(r0), group(int64(r0.Models)), group(int64(r0.Minutes)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	gb := ""
	if r0.Memory != "" {
		gb = "idle GB-h\t"
	}
	fmt.Fprintf(tw, "policy\tkeep-alive\tcold starts\tidle model-minutes\t%sloads\tunloads\t\n", gb)
	for _, r := range reports {
		if r.Memory != "" {
			gb = group(int64(r.IdleGBHours+0.5)) + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t%s\t\n", policyName(r), duration(r.KeepAliveSeconds), group(r.ColdStarts), group(r.IdleModelMinutes), gb, group(r.Loads), group(r.Unloads))
	}
	return tw.Flush()
}

// policyName is the policy with its threshold when it has one: "predictive p>=0.05".
func policyName(r *report) string {
	if r.MinProbability == 0 {
		return r.Policy
	}
	return fmt.Sprintf("%s p>=%g", r.Policy, r.MinProbability)
}

// rowsText says which rows the run read: "rows 1-500 of 1000", "all 1000 rows".
func rowsText(r *report) string {
	if r.Rows == "all" {
		return fmt.Sprintf("all %d rows", r.RowsRead)
	}
	return fmt.Sprintf("rows %s of %d", r.Rows, r.RowsRead)
}

func policyLine(r *report) string {
	if r.Policy == policyPredictive {
		return fmt.Sprintf("%s: keep or pre-warm a model when a request is at least %g likely in the next minute; until a model has history, unload after %s idle below %g QPS; a cycle every %s",
			r.Policy, r.MinProbability, duration(r.KeepAliveSeconds), r.MinQPS, duration(r.DecisionIntervalSeconds))
	}
	return fmt.Sprintf("%s: unload after %s idle below %g QPS, a cycle every %s", r.Policy, duration(r.KeepAliveSeconds), r.MinQPS, duration(r.DecisionIntervalSeconds))
}

// duration prints seconds the short way: 5m, 90s, 1h30m.
func duration(secs float64) string {
	s := time.Duration(secs * float64(time.Second)).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// group writes n with thousands separators: 94,634.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
