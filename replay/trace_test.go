package replay_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/replay"
)

func TestReadTraceLayouts(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		rows    replay.Rows
		layout  replay.Layout
		minutes int
		start   time.Time
		models  []replay.Model
	}{
		{
			name:    "original Azure layout: function names the model, app joins memory",
			csv:     "HashOwner,HashApp,HashFunction,Trigger,1,2,3\nown,app1,f1,http,0,2,0\nown,app2,f2,timer,1,0,0\n",
			layout:  replay.LayoutAzure2019,
			minutes: 3,
			models: []replay.Model{
				{Name: "f1", App: "app1", Line: 2, Active: []replay.Active{{Minute: 2, Count: 2}}},
				{Name: "f2", App: "app2", Line: 3, Active: []replay.Active{{Minute: 1, Count: 1}}},
			},
		},
		{
			name:    "sampled layout with any number of minute columns",
			csv:     "HashFunction,HashApp,HashOwner,minute_1,minute_2\nf1,app1,own,5,0\n",
			layout:  replay.LayoutAzure2019Sampled,
			minutes: 2,
			models:  []replay.Model{{Name: "f1", App: "app1", Line: 2, Active: []replay.Active{{Minute: 1, Count: 5}}}},
		},
		{
			name:    "rows selects 1-based inclusive rows, still reading the others",
			csv:     "HashFunction,HashApp,HashOwner,minute_1\nf1,a,o,1\nf2,a,o,2\nf3,a,o,3\n",
			rows:    replay.Rows{First: 2, Last: 3},
			layout:  replay.LayoutAzure2019Sampled,
			minutes: 1,
			models: []replay.Model{
				{Name: "f2", App: "a", Line: 3, Active: []replay.Active{{Minute: 1, Count: 2}}},
				{Name: "f3", App: "a", Line: 4, Active: []replay.Active{{Minute: 1, Count: 3}}},
			},
		},
		{
			name:    "a model without requests is still a model",
			csv:     "HashFunction,HashApp,HashOwner,minute_1,minute_2\nf1,a,o,0,0\n",
			layout:  replay.LayoutAzure2019Sampled,
			minutes: 2,
			models:  []replay.Model{{Name: "f1", App: "a", Line: 2, Active: []replay.Active{}}},
		},
		{
			name: "request log: unsorted lines, RFC 3339 and Unix seconds, summed per minute",
			csv: "time,model,requests\n" +
				"2026-11-29T12:02:30Z,llama,2\n" +
				"1795953600,bert,1\n" + // 2026-11-29T12:00:00Z
				"2026-11-29T12:02:59.9Z,llama,3\n" +
				"1795953600.5,llama,0\n",
			layout:  replay.LayoutRequests,
			minutes: 3,
			start:   time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
			models: []replay.Model{
				{Name: "llama", Line: 2, Active: []replay.Active{{Minute: 3, Count: 5}}},
				{Name: "bert", Line: 3, Active: []replay.Active{{Minute: 1, Count: 1}}},
			},
		},
		{
			name:    "request log without a requests column counts one request a line",
			csv:     "time,model\n2026-11-29T12:00:01Z,m\n2026-11-29T12:00:02Z,m\n",
			layout:  replay.LayoutRequests,
			minutes: 1,
			start:   time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
			models:  []replay.Model{{Name: "m", Line: 2, Active: []replay.Active{{Minute: 1, Count: 2}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(tt.csv), tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Layout != tt.layout || tr.Minutes != tt.minutes || !tr.Start.Equal(tt.start) {
				t.Errorf("layout %s, %d minutes from %v; want %s, %d from %v", tr.Layout, tr.Minutes, tr.Start, tt.layout, tt.minutes, tt.start)
			}
			if len(tr.Models) != len(tt.models) {
				t.Fatalf("%d models %+v, want %d", len(tr.Models), tr.Models, len(tt.models))
			}
			for i, m := range tr.Models {
				w := tt.models[i]
				if m.Name != w.Name || m.App != w.App || m.Line != w.Line || len(m.Active) != len(w.Active) {
					t.Fatalf("model %d = %+v, want %+v", i, m, w)
				}
				for j := range m.Active {
					if m.Active[j] != w.Active[j] {
						t.Errorf("model %d minute %d = %+v, want %+v", i, j, m.Active[j], w.Active[j])
					}
				}
			}
		})
	}
}

func TestReadTraceCountsRows(t *testing.T) {
	tr, err := replay.ReadTrace("t.csv", strings.NewReader("HashFunction,HashApp,HashOwner,minute_1,minute_2\nf1,a,o,1,2\nf2,a,o,0,4\nf3,a,o,0,0\n"), replay.Rows{First: 1, Last: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tr.RowsRead != 3 || tr.RowsSelected != 2 || tr.Requests != 7 || tr.InvocationMinutes != 3 {
		t.Errorf("read %d, selected %d, %d requests in %d invocation minutes; want 3, 2, 7, 3", tr.RowsRead, tr.RowsSelected, tr.Requests, tr.InvocationMinutes)
	}
}

func TestReadTraceErrors(t *testing.T) {
	const sampled = "HashFunction,HashApp,HashOwner,minute_1,minute_2\n"
	tests := []struct {
		name string
		csv  string
		rows replay.Rows
		want string // the whole message
	}{
		{"empty file", "", replay.Rows{}, "t.csv: the file is empty: want a header line and one row per model"},
		{"header without rows", sampled, replay.Rows{}, "t.csv: line 2: no data rows after the header"},
		{"unknown layout", "a,b,c\n1,2,3\n", replay.Rows{}, `t.csv: line 1: unknown layout: the header starts "a,b,c"; want HashOwner,HashApp,HashFunction,Trigger,1,2,... (Azure Functions 2019), HashFunction,HashApp,HashOwner,minute_1,minute_2,... (its sampled layout), or time,model[,requests] (a request log)`},
		{"minute columns with a gap", "HashFunction,HashApp,HashOwner,minute_1,minute_3\n", replay.Rows{}, `t.csv: line 1, column 5: minute column "minute_3", want "minute_2": minute columns run 1, 2, 3, ... without a gap`},
		{"no minute columns", "HashOwner,HashApp,HashFunction,Trigger\n", replay.Rows{}, "t.csv: line 1: the header has no minute columns"},
		{"negative count", sampled + "f1,a,o,1,2\nf2,a,o,3,-1\n", replay.Rows{}, "t.csv: line 3, column 5 (minute_2): negative count -1"},
		{"count that is not a number", sampled + "f1,a,o,x,2\n", replay.Rows{}, `t.csv: line 2, column 4 (minute_1): "x" is not a count: want a whole number of requests, 0 or more`},
		{"fractional count", sampled + "f1,a,o,1.5,2\n", replay.Rows{}, `t.csv: line 2, column 4 (minute_1): "1.5" is not a count: want a whole number of requests, 0 or more`},
		{"empty count", sampled + "f1,a,o,,2\n", replay.Rows{}, "t.csv: line 2, column 4 (minute_1): empty count: want a whole number of requests, 0 or more"},
		{"short row", sampled + "f1,a,o,1\n", replay.Rows{}, "t.csv: line 2: 4 fields, but the header has 5"},
		{"bad row outside the selected rows", sampled + "f1,a,o,1,2\nf2,a,o\n", replay.Rows{First: 1, Last: 1}, "t.csv: line 3: 3 fields, but the header has 5"},
		{"malformed CSV", sampled + "f1,a,o,\"1,2\n", replay.Rows{}, "t.csv: line 2: malformed CSV: extraneous or missing \" in quoted-field"},
		{"repeated function", sampled + "f1,a,o,1,2\nf1,b,o,0,1\n", replay.Rows{}, "t.csv: line 3, column 1 (HashFunction): function f1 repeats line 2: each row must be a distinct function"},
		{"empty function name", sampled + ",a,o,1,2\n", replay.Rows{}, "t.csv: line 2, column 1 (HashFunction): empty function name"},
		{"rows beyond the file", sampled + "f1,a,o,1,2\n", replay.Rows{First: 1, Last: 5}, "t.csv: rows 1-5 asked, but the file has 1 data rows"},
		{"request log with a bad time", "time,model\nyesterday,m\n", replay.Rows{}, `t.csv: line 2, column 1 (time): "yesterday" is not a time: want RFC 3339 (2026-11-29T12:00:00Z) or Unix seconds`},
		{"request log with a negative count", "time,model,requests\n1795953600,m,-3\n", replay.Rows{}, "t.csv: line 2, column 3 (requests): negative count -3"},
		{"request log with an empty model", "time,model\n1795953600, \n", replay.Rows{}, "t.csv: line 2, column 2 (model): empty model name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := replay.ReadTrace("t.csv", strings.NewReader(tt.csv), tt.rows)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant        %s", err, tt.want)
			}
		})
	}
}

func TestReadTraceErrorIsTyped(t *testing.T) {
	_, err := replay.ReadTrace("t.csv", strings.NewReader("HashFunction,HashApp,HashOwner,minute_1\nf,a,o,-2\n"), replay.Rows{})
	var e *replay.Error
	if !errors.As(err, &e) || e.File != "t.csv" || e.Line != 2 || e.Column != 4 || e.Field != "minute_1" {
		t.Fatalf("error %#v, want a *replay.Error at t.csv line 2 column 4 (minute_1)", err)
	}
}

func TestParseRows(t *testing.T) {
	tests := []struct {
		in      string
		want    replay.Rows
		wantErr string
	}{
		{in: "1-500", want: replay.Rows{First: 1, Last: 500}},
		{in: "7", want: replay.Rows{First: 7, Last: 7}},
		{in: "0-5", wantErr: `rows "0-5": rows count from 1`},
		{in: "9-3", wantErr: `rows "9-3": the last row is before the first`},
		{in: "a-b", wantErr: `rows "a-b": want A-B, two row numbers such as 1-500`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := replay.ParseRows(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRows(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestReadMemory(t *testing.T) {
	const header = "HashApp,HashOwner,SampleCount,AverageAllocatedMb\n"
	mem, err := replay.ReadMemory("m.csv", strings.NewReader(header+"a1,o,3,794\na2,o,1,12.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mem) != 2 || mem["a1"] != 794 || mem["a2"] != 12.5 {
		t.Errorf("memory %v, want a1: 794, a2: 12.5", mem)
	}
	errs := []struct{ name, csv, want string }{
		{"empty file", "", "m.csv: the file is empty: want a header with HashApp and AverageAllocatedMb, and one row per application"},
		{"unknown layout", "HashApp,Mb\na,1\n", "m.csv: line 1: unknown layout: want a header with the columns HashApp and AverageAllocatedMb (the Azure Functions 2019 memory file)"},
		{"no rows", header, "m.csv: line 2: no data rows after the header"},
		{"negative memory", header + "a,o,1,-5\n", "m.csv: line 2, column 4 (AverageAllocatedMb): negative memory -5 MB"},
		{"memory that is not a number", header + "a,o,1,lots\n", `m.csv: line 2, column 4 (AverageAllocatedMb): "lots" is not a number of MB`},
		{"repeated application", header + "a,o,1,5\na,o,1,6\n", "m.csv: line 3, column 1 (HashApp): application a repeats line 2"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := replay.ReadMemory("m.csv", strings.NewReader(tt.csv))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant        %s", err, tt.want)
			}
		})
	}
}
