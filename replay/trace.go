package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Layout is the shape of a trace file, recognised from its header.
type Layout string

// The layouts a trace may have.
const (
	// LayoutAzure2019 is the original Azure Functions 2019 dataset:
	// HashOwner,HashApp,HashFunction,Trigger,1,...,1440.
	LayoutAzure2019 Layout = "azure-functions-2019"
	// LayoutAzure2019Sampled is the sampled layout that circulates (vHive's invitro):
	// HashFunction,HashApp,HashOwner,minute_1,... with any number of minute columns.
	LayoutAzure2019Sampled Layout = "azure-functions-2019-sampled"
	// LayoutRequests is a gateway's own log: time,model[,requests], one line per request (or per
	// batch of requests), time in RFC 3339 or Unix seconds.
	LayoutRequests Layout = "requests"
)

// Active is one invocation minute of a model: Minute is 1-based, Count > 0.
type Active struct {
	Minute int32
	Count  int64
}

// Model is one model of a trace (a function of the Azure traces).
type Model struct {
	// Name is the model's name in the brain (HashFunction for the Azure layouts).
	Name string
	// App joins the model to the memory file (HashApp); empty for a request log.
	App string
	// Line is the file line the model was read from (its first line in a request log).
	Line int
	// Active lists the model's invocation minutes in increasing order.
	Active []Active
}

// Trace is per-minute request counts of models.
type Trace struct {
	File   string
	Layout Layout
	// Start is the time of minute 1: the real time for a request log, zero for the Azure traces
	// (their minutes are minutes of an unnamed day).
	Start time.Time
	// Minutes is the length of the trace: minute 1 to Minutes.
	Minutes int
	Models  []Model
	// RowsRead is the number of data rows read (all of them, also those --rows leaves out);
	// RowsSelected the number of rows the trace was built from.
	RowsRead, RowsSelected int
	// Requests is the sum of every count; InvocationMinutes the number of (model, minute) pairs
	// with a request.
	Requests          int64
	InvocationMinutes int64
}

// Rows is a 1-based inclusive range of data rows (the header is not a row). The zero value means
// every row.
type Rows struct{ First, Last int }

// ParseRows reads "A-B" (1-based, inclusive) or a single row "A".
func ParseRows(s string) (Rows, error) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		b = a
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return Rows{}, fmt.Errorf("rows %q: want A-B, two row numbers such as 1-500", s)
	case first < 1:
		return Rows{}, fmt.Errorf("rows %q: rows count from 1", s)
	case last < first:
		return Rows{}, fmt.Errorf("rows %q: the last row is before the first", s)
	}
	return Rows{First: first, Last: last}, nil
}

func (r Rows) all() bool { return r == Rows{} }

func (r Rows) has(row int) bool { return r.all() || row >= r.First && row <= r.Last }

func (r Rows) String() string {
	if r.all() {
		return "all"
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Error is a problem with one place of an input file. Line and Column are 1-based (Column counts
// CSV fields, not bytes); either is 0 when it does not apply.
type Error struct {
	File         string
	Line, Column int
	// Field is the column's header name, when known.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
		if e.Field != "" {
			fmt.Fprintf(&b, " (%s)", e.Field)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ReadTraceFile reads a trace file, keeping the rows in rows (the zero Rows: all).
func ReadTraceFile(path string, rows Rows) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	defer f.Close()
	return ReadTrace(filepath.Base(path), f, rows)
}

// ReadTrace reads a trace in any of the layouts, recognised from its header; name is what errors
// call the file. Every data row is read and checked, also those outside rows; a malformed row, a
// negative count, an unknown layout, an empty file or rows beyond the file are errors.
func ReadTrace(name string, r io.Reader, rows Rows) (*Trace, error) {
	cr := newCSV(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Msg: "the file is empty: want a header line and one row per model"}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from a spreadsheet
	}
	layout, minutes, err := detectLayout(name, header)
	if err != nil {
		return nil, err
	}
	tr := &Trace{File: name, Layout: layout, Minutes: minutes}
	if layout == LayoutRequests {
		err = readRequests(tr, cr, header, rows)
	} else {
		err = readAzure(tr, cr, header, rows)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case tr.RowsRead == 0:
		return nil, &Error{File: name, Line: 2, Msg: "no data rows after the header"}
	case !rows.all() && rows.Last > tr.RowsRead:
		return nil, &Error{File: name, Msg: fmt.Sprintf("rows %s asked, but the file has %d data rows", rows, tr.RowsRead)}
	}
	return tr, nil
}

func newCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, with a message that names the header
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	return cr
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Line, Msg: "malformed CSV: " + pe.Err.Error()}
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// detectLayout recognises the header; minutes is the number of minute columns (0 for a log).
func detectLayout(name string, h []string) (Layout, int, error) {
	lower := make([]string, len(h))
	for i, s := range h {
		lower[i] = strings.ToLower(strings.TrimSpace(s))
	}
	has := func(cols ...string) bool {
		return len(lower) >= len(cols) && slices.Equal(lower[:len(cols)], cols)
	}
	switch {
	case has("hashowner", "hashapp", "hashfunction", "trigger"):
		return LayoutAzure2019, len(h) - 4, checkMinutes(name, h, 4, "")
	case has("hashfunction", "hashapp", "hashowner"):
		return LayoutAzure2019Sampled, len(h) - 3, checkMinutes(name, h, 3, "minute_")
	case has("time", "model") && (len(h) == 2 || len(h) == 3 && lower[2] == "requests"):
		return LayoutRequests, 0, nil
	}
	first := strings.Join(h[:min(len(h), 4)], ",")
	return "", 0, &Error{File: name, Line: 1, Msg: fmt.Sprintf("unknown layout: the header starts %q; want "+
		"HashOwner,HashApp,HashFunction,Trigger,1,2,... (Azure Functions 2019), "+
		"HashFunction,HashApp,HashOwner,minute_1,minute_2,... (its sampled layout), "+
		"or time,model[,requests] (a request log)", first)}
}

// checkMinutes checks that the header's minute columns, from column from, are prefix1, prefix2, ...
func checkMinutes(name string, h []string, from int, prefix string) error {
	if len(h) == from {
		return &Error{File: name, Line: 1, Msg: "the header has no minute columns"}
	}
	for i := from; i < len(h); i++ {
		want := prefix + strconv.Itoa(i-from+1)
		if !strings.EqualFold(strings.TrimSpace(h[i]), want) {
			return &Error{File: name, Line: 1, Column: i + 1, Msg: fmt.Sprintf("minute column %q, want %q: minute columns run 1, 2, 3, ... without a gap", h[i], want)}
		}
	}
	return nil
}

// readAzure reads one model per row.
func readAzure(tr *Trace, cr *csv.Reader, header []string, rows Rows) error {
	nameCol, appCol, from := 2, 1, 4
	if tr.Layout == LayoutAzure2019Sampled {
		nameCol, appCol, from = 0, 1, 3
	}
	seen := make(map[string]int) // model name -> line
	var counts []Active
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(tr.File, err)
		}
		line, _ := cr.FieldPos(0)
		tr.RowsRead++
		if len(rec) != len(header) {
			return &Error{File: tr.File, Line: line, Msg: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(header))}
		}
		if !rows.has(tr.RowsRead) {
			continue
		}
		name := strings.TrimSpace(rec[nameCol])
		if name == "" {
			return &Error{File: tr.File, Line: line, Column: nameCol + 1, Field: header[nameCol], Msg: "empty function name"}
		}
		if prev, ok := seen[name]; ok {
			return &Error{File: tr.File, Line: line, Column: nameCol + 1, Field: header[nameCol], Msg: fmt.Sprintf("function %s repeats line %d: each row must be a distinct function", name, prev)}
		}
		seen[name] = line
		counts = counts[:0]
		for i := from; i < len(rec); i++ {
			n, err := parseCount(rec[i])
			if err != nil {
				return &Error{File: tr.File, Line: line, Column: i + 1, Field: header[i], Msg: err.Error()}
			}
			if n > 0 {
				counts = append(counts, Active{Minute: int32(i - from + 1), Count: n})
				tr.Requests = addSat(tr.Requests, n)
			}
		}
		tr.InvocationMinutes += int64(len(counts))
		tr.RowsSelected++
		tr.Models = append(tr.Models, Model{Name: name, App: strings.TrimSpace(rec[appCol]), Line: line, Active: slices.Clone(counts)})
	}
}

// parseCount reads a count of requests: a whole number, 0 or more ("3.0" is accepted, since
// spreadsheets write numbers so).
func parseCount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative count %d", n)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case s == "":
		return 0, errors.New("empty count: want a whole number of requests, 0 or more")
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f):
		return 0, fmt.Errorf("%q is not a count: want a whole number of requests, 0 or more", s)
	case f < 0:
		return 0, fmt.Errorf("negative count %s", s)
	case f >= math.MaxInt64: // float64(MaxInt64) is 2^63, which int64(f) would turn negative
		return 0, fmt.Errorf("count %s is too large: at most %d", s, int64(math.MaxInt64))
	}
	return int64(f), nil
}

func addSat(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// readRequests reads a request log: rows are lines; models come in order of first appearance and
// minute 1 is the minute of the earliest request kept.
func readRequests(tr *Trace, cr *csv.Reader, header []string, rows Rows) error {
	type req struct {
		model int
		at    int64 // Unix minute
		n     int64
	}
	var reqs []req
	index := make(map[string]int)
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return csvError(tr.File, err)
		}
		line, _ := cr.FieldPos(0)
		tr.RowsRead++
		if len(rec) != len(header) {
			return &Error{File: tr.File, Line: line, Msg: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(header))}
		}
		at, err := parseTime(rec[0])
		if err != nil {
			return &Error{File: tr.File, Line: line, Column: 1, Field: header[0], Msg: err.Error()}
		}
		name := strings.TrimSpace(rec[1])
		if name == "" {
			return &Error{File: tr.File, Line: line, Column: 2, Field: header[1], Msg: "empty model name"}
		}
		n := int64(1)
		if len(rec) == 3 {
			if n, err = parseCount(rec[2]); err != nil {
				return &Error{File: tr.File, Line: line, Column: 3, Field: header[2], Msg: err.Error()}
			}
		}
		if !rows.has(tr.RowsRead) {
			continue
		}
		tr.RowsSelected++
		i, ok := index[name]
		if !ok {
			i = len(tr.Models)
			index[name] = i
			tr.Models = append(tr.Models, Model{Name: name, Line: line})
		}
		minute := at.Unix() / 60
		if at.Unix()%60 < 0 {
			minute--
		}
		first, last = min(first, minute), max(last, minute)
		reqs = append(reqs, req{model: i, at: minute, n: n})
	}
	if len(reqs) == 0 {
		return nil
	}
	if span := last - first + 1; span > maxLogMinutes {
		return &Error{File: tr.File, Msg: fmt.Sprintf("the requests span %d minutes, more than the %d (a year) a replay covers", span, maxLogMinutes)}
	}
	tr.Start = time.Unix(first*60, 0).UTC()
	tr.Minutes = int(last - first + 1)
	// Lines need not be sorted: order by model and minute, then merge each model's minutes.
	slices.SortStableFunc(reqs, func(a, b req) int {
		if a.model != b.model {
			return a.model - b.model
		}
		return int(a.at - b.at)
	})
	for _, r := range reqs {
		m := &tr.Models[r.model]
		minute := int32(r.at - first + 1)
		tr.Requests = addSat(tr.Requests, r.n)
		if r.n == 0 {
			continue
		}
		if k := len(m.Active); k > 0 && m.Active[k-1].Minute == minute {
			m.Active[k-1].Count = addSat(m.Active[k-1].Count, r.n)
			continue
		}
		m.Active = append(m.Active, Active{Minute: minute, Count: r.n})
		tr.InvocationMinutes++
	}
	return nil
}

// maxLogMinutes bounds a request log's span: a replay walks every minute.
const maxLogMinutes = 366 * 24 * 60

// parseTime reads RFC 3339 (with or without fractional seconds) or Unix seconds (with or without a
// fraction).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e11 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2026-11-29T12:00:00Z) or Unix seconds", s)
}

// Memory maps HashApp to its average allocated memory in MB.
type Memory map[string]float64

// ReadMemoryFile reads the Azure Functions 2019 memory file.
func ReadMemoryFile(path string) (Memory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read memory file: %w", err)
	}
	defer f.Close()
	return ReadMemory(filepath.Base(path), f)
}

// ReadMemory reads a memory file: a header with HashApp and AverageAllocatedMb (other columns are
// ignored), then one row per application.
func ReadMemory(name string, r io.Reader) (Memory, error) {
	cr := newCSV(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Msg: "the file is empty: want a header with HashApp and AverageAllocatedMb, and one row per application"}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	header = slices.Clone(header)
	appCol, mbCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "hashapp":
			appCol = i
		case "averageallocatedmb":
			mbCol = i
		}
	}
	if appCol < 0 || mbCol < 0 {
		return nil, &Error{File: name, Line: 1, Msg: "unknown layout: want a header with the columns HashApp and AverageAllocatedMb (the Azure Functions 2019 memory file)"}
	}
	mem := make(Memory)
	lines := make(map[string]int)
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		rows++
		if len(rec) != len(header) {
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(header))}
		}
		app := strings.TrimSpace(rec[appCol])
		if app == "" {
			return nil, &Error{File: name, Line: line, Column: appCol + 1, Field: header[appCol], Msg: "empty application hash"}
		}
		mb, err := strconv.ParseFloat(strings.TrimSpace(rec[mbCol]), 64)
		switch {
		case err != nil || math.IsNaN(mb) || math.IsInf(mb, 0):
			return nil, &Error{File: name, Line: line, Column: mbCol + 1, Field: header[mbCol], Msg: fmt.Sprintf("%q is not a number of MB", rec[mbCol])}
		case mb < 0:
			return nil, &Error{File: name, Line: line, Column: mbCol + 1, Field: header[mbCol], Msg: fmt.Sprintf("negative memory %s MB", rec[mbCol])}
		}
		if prev, ok := lines[app]; ok {
			return nil, &Error{File: name, Line: line, Column: appCol + 1, Field: header[appCol], Msg: fmt.Sprintf("application %s repeats line %d", app, prev)}
		}
		lines[app] = line
		mem[app] = mb
	}
	if rows == 0 {
		return nil, &Error{File: name, Line: 2, Msg: "no data rows after the header"}
	}
	return mem, nil
}
