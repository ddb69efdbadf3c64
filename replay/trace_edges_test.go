package replay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/replay"
)

// The edges of the trace readers: a header's byte order mark, a request log's ordering, counting,
// time arithmetic before 1970 and span limit, and the memory file's header columns.

func TestReadTraceHeaderWithByteOrderMark(t *testing.T) {
	tests := []struct {
		name   string
		csv    string
		layout replay.Layout
	}{
		{"sampled Azure header saved by a spreadsheet", "\ufeffHashFunction,HashApp,HashOwner,minute_1\nf,a,o,1\n", replay.LayoutAzure2019Sampled},
		{"request log header saved by a spreadsheet", "\ufefftime,model\n1795953600,m\n", replay.LayoutRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(tt.csv), replay.Rows{})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Layout != tt.layout {
				t.Errorf("layout %s, want %s", tr.Layout, tt.layout)
			}
		})
	}
}

func TestReadTraceRequestLogCounts(t *testing.T) {
	const log = "time,model,requests\n" +
		"1795953600,a,2\n" + // minute 1
		"1795953630,a,3\n" + // minute 1 again
		"1795953660,b,1\n" + // minute 2
		"1795953720,a,4\n" + // minute 3
		"1795953780,b,0\n" // minute 4, no request
	tests := []struct {
		name                        string
		rows                        replay.Rows
		read, selected              int
		requests, invocationMinutes int64
		minutes                     int
	}{
		{name: "every line", read: 5, selected: 5, requests: 10, invocationMinutes: 3, minutes: 4},
		{name: "lines 2-4 of 5", rows: replay.Rows{First: 2, Last: 4}, read: 5, selected: 3, requests: 8, invocationMinutes: 3, minutes: 3},
		{name: "a single line", rows: replay.Rows{First: 4, Last: 4}, read: 5, selected: 1, requests: 4, invocationMinutes: 1, minutes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(log), tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			if tr.RowsRead != tt.read || tr.RowsSelected != tt.selected || tr.Requests != tt.requests || tr.InvocationMinutes != tt.invocationMinutes || tr.Minutes != tt.minutes {
				t.Errorf("read %d, selected %d, %d requests in %d invocation minutes over %d minutes; want %d, %d, %d, %d, %d",
					tr.RowsRead, tr.RowsSelected, tr.Requests, tr.InvocationMinutes, tr.Minutes,
					tt.read, tt.selected, tt.requests, tt.invocationMinutes, tt.minutes)
			}
		})
	}
}

func TestReadTraceRequestLogInAnyOrder(t *testing.T) {
	tests := []struct {
		name   string
		csv    string
		models []replay.Model
	}{
		{
			name: "one model's lines backwards give its minutes in increasing order",
			csv:  "time,model\n120,m\n60,m\n0,m\n125,m\n",
			models: []replay.Model{
				{Name: "m", Line: 2, Active: []replay.Active{{Minute: 1, Count: 1}, {Minute: 2, Count: 1}, {Minute: 3, Count: 2}}},
			},
		},
		{
			name: "two models' lines interleaved give each its own minutes in increasing order",
			csv:  "time,model\n120,a\n0,b\n60,a\n0,a\n70,b\n",
			models: []replay.Model{
				{Name: "a", Line: 2, Active: []replay.Active{{Minute: 1, Count: 1}, {Minute: 2, Count: 1}, {Minute: 3, Count: 1}}},
				{Name: "b", Line: 3, Active: []replay.Active{{Minute: 1, Count: 1}, {Minute: 2, Count: 1}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(tt.csv), replay.Rows{})
			if err != nil {
				t.Fatal(err)
			}
			if !equalModels(tr.Models, tt.models) {
				t.Errorf("models %+v\nwant   %+v", tr.Models, tt.models)
			}
		})
	}
}

func TestReadTraceRequestLogBefore1970(t *testing.T) {
	// A replay starts at the minute of the earliest request: the minute a time falls in is the floor,
	// also for negative Unix seconds (integer division rounds those towards zero).
	tests := []struct {
		name  string
		time  string
		start time.Time
	}{
		{"a whole minute before the epoch is that minute", "-60", time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC)},
		{"a second before a whole minute is the minute before", "-61", time.Date(1969, 12, 31, 23, 58, 0, 0, time.UTC)},
		{"half a second before the epoch is the minute before it", "-0.5", time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC)},
		{"a fraction past a negative whole minute reaches back into the minute before", "-60.25", time.Date(1969, 12, 31, 23, 58, 0, 0, time.UTC)},
		{"RFC 3339 before the epoch", "1969-12-31T23:59:00Z", time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader("time,model\n"+tt.time+",m\n"), replay.Rows{})
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Start.Equal(tt.start) || tr.Minutes != 1 {
				t.Errorf("start %v over %d minutes, want %v over 1", tr.Start, tr.Minutes, tt.start)
			}
		})
	}
}

func TestReadTraceRequestLogSpan(t *testing.T) {
	const year = 366 * 24 * 60 // minutes a replay covers
	tests := []struct {
		name    string
		csv     string
		minutes int    // when accepted
		wantErr string // the whole message, when refused
	}{
		{name: "requests spanning exactly a year are read", csv: "time,model\n0,m\n31622340,m\n", minutes: year},
		{name: "requests spanning a year and a minute are refused", csv: "time,model\n0,m\n31622400,m\n",
			wantErr: "t.csv: the requests span 527041 minutes, more than the 527040 (a year) a replay covers"},
		{name: "Unix seconds just under 1e11 are a time", csv: "time,model\n99999999999,m\n", minutes: 1},
		{name: "Unix seconds of 1e11 are not a time", csv: "time,model\n100000000000,m\n",
			wantErr: `t.csv: line 2, column 1 (time): "100000000000" is not a time: want RFC 3339 (2026-11-29T12:00:00Z) or Unix seconds`},
		{name: "Unix seconds of -1e11 are not a time", csv: "time,model\n-1e11,m\n",
			wantErr: `t.csv: line 2, column 1 (time): "-1e11" is not a time: want RFC 3339 (2026-11-29T12:00:00Z) or Unix seconds`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(tt.csv), replay.Rows{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v\nwant        %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Minutes != tt.minutes {
				t.Errorf("%d minutes, want %d", tr.Minutes, tt.minutes)
			}
		})
	}
}

func TestReadMemoryHeaderColumns(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		want    replay.Memory
		wantErr string
	}{
		{name: "AverageAllocatedMb as the first column", csv: "AverageAllocatedMb,HashApp\n12.5,a\n", want: replay.Memory{"a": 12.5}},
		{name: "HashApp as the last column", csv: "AverageAllocatedMb,SampleCount,HashApp\n7,1,a\n", want: replay.Memory{"a": 7}},
		{name: "a header without HashApp is an unknown layout", csv: "HashOwner,AverageAllocatedMb\no,5\n",
			wantErr: "m.csv: line 1: unknown layout: want a header with the columns HashApp and AverageAllocatedMb (the Azure Functions 2019 memory file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem, err := replay.ReadMemory("m.csv", strings.NewReader(tt.csv))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v\nwant        %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(mem) != len(tt.want) {
				t.Fatalf("memory %v, want %v", mem, tt.want)
			}
			for app, mb := range tt.want {
				if got, ok := mem[app]; !ok || got != mb {
					t.Errorf("memory %v, want %v", mem, tt.want)
				}
			}
		})
	}
}

func equalModels(got, want []replay.Model) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.App != w.App || g.Line != w.Line || len(g.Active) != len(w.Active) {
			return false
		}
		for j := range g.Active {
			if g.Active[j] != w.Active[j] {
				return false
			}
		}
	}
	return true
}

func TestReadTraceCountTooLargeIsRefused(t *testing.T) {
	// 2^63 is the first whole number an int64 cannot hold; spelled as a float it still parses.
	tests := []struct{ name, csv, want string }{
		{"request log count of 2^63", "time,model,requests\n0,m,9223372036854775808\n",
			"t.csv: line 2, column 3 (requests): count 9223372036854775808 is too large: at most 9223372036854775807"},
		{"request log count of 2^63 written as a float", "time,model,requests\n0,m,9.223372036854775808e18\n",
			"t.csv: line 2, column 3 (requests): count 9.223372036854775808e18 is too large: at most 9223372036854775807"},
		{"Azure count of 1e19", "HashFunction,HashApp,HashOwner,minute_1\nf,a,o,1e19\n",
			"t.csv: line 2, column 4 (minute_1): count 1e19 is too large: at most 9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(tt.csv), replay.Rows{})
			if err == nil || err.Error() != tt.want {
				var got any = err
				if err == nil {
					got = tr.Models
				}
				t.Fatalf("got %v\nwant %s", got, tt.want)
			}
		})
	}
}

func TestReadTraceLargestCountsAreRead(t *testing.T) {
	tests := []struct {
		name  string
		count string
		want  int64
	}{
		{"the largest int64", "9223372036854775807", 9223372036854775807},
		{"the largest float below 2^63", "9223372036854774784.0", 9223372036854774784},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := replay.ReadTrace("t.csv", strings.NewReader("time,model,requests\n0,m,"+tt.count+"\n"), replay.Rows{})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Requests != tt.want || len(tr.Models) != 1 || len(tr.Models[0].Active) != 1 || tr.Models[0].Active[0].Count != tt.want {
				t.Errorf("%d requests, models %+v; want %d in minute 1", tr.Requests, tr.Models, tt.want)
			}
		})
	}
}

func TestReadTraceRequestSumsSaturate(t *testing.T) {
	// A sum that would pass the largest int64 stays there rather than wrapping negative.
	tests := []struct {
		name   string
		counts []string // one line each, all in minute 1
		want   int64
	}{
		{"a sum reaching the largest int64 exactly", []string{"9223372036854775806", "1"}, 9223372036854775807},
		{"a sum past the largest int64 stops there", []string{"9223372036854775807", "1", "5"}, 9223372036854775807},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("time,model,requests\n")
			for _, c := range tt.counts {
				b.WriteString("0,m," + c + "\n")
			}
			tr, err := replay.ReadTrace("t.csv", strings.NewReader(b.String()), replay.Rows{})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Requests != tt.want || len(tr.Models) != 1 || len(tr.Models[0].Active) != 1 || tr.Models[0].Active[0].Count != tt.want {
				t.Errorf("%d requests, models %+v; want %d in minute 1", tr.Requests, tr.Models, tt.want)
			}
		})
	}
}
