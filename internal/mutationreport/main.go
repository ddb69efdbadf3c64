// Command mutationreport turns the JSON results of gremlins (one file a package, from `make
// mutation`) into bench/mutation.md: per package the mutants killed, lived, not covered and timed
// out, the efficacy beside a baseline, and every living mutant with its verdict (the test that
// should kill it, or why no test can: an equivalent mutant). It decides nothing about the code
// under test and runs no test itself.
//
//	go run ./internal/mutationreport -dir bench/mutation -pkgs "metrics rules" \
//	    -baseline bench/mutation-baseline.tsv -verdicts bench/mutation-verdicts.tsv \
//	    -notes bench/mutation-notes.md -out bench/mutation.md
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "bench/mutation", "folder of gremlins JSON results, one PKG.json a package (slashes as _), and times.tsv")
	pkgs := flag.String("pkgs", "", "space-separated packages, in report order")
	flag.StringVar(&o.baseline, "baseline", "", "optional TSV: package, efficacy before (percent), where that figure comes from")
	flag.StringVar(&o.verdicts, "verdicts", "", "optional TSV: pkg/file.go:line:col, mutator, verdict")
	flag.StringVar(&o.notes, "notes", "", "optional markdown appended to the report")
	out := flag.String("out", "bench/mutation.md", "report to write")
	flag.Float64Var(&o.minEfficacy, "min-efficacy", 0, "fail (exit 1, after writing the report) when a package's efficacy is below this percentage")
	flag.Parse()
	o.pkgs = strings.Fields(*pkgs)
	if len(o.pkgs) == 0 {
		fmt.Fprintln(os.Stderr, "mutationreport: -pkgs is required")
		os.Exit(2)
	}
	report, err := build(o)
	if report != "" {
		if werr := os.WriteFile(*out, []byte(report), 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "mutationreport:", werr)
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutationreport:", err)
		os.Exit(1)
	}
}

type options struct {
	dir, baseline, verdicts, notes string
	pkgs                           []string
	// minEfficacy makes build return the report and an error naming every package below it.
	minEfficacy float64
}

// result is the part of gremlins' JSON output the report reads.
type result struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
	Elapsed float64 `json:"elapsed_time"`
}

// counts are one package's mutants by status.
type counts struct {
	killed, lived, notCovered, timedOut, notViable int
	// later and equivalent count the living mutants whose verdict says a later test kills them,
	// or that they are equivalent (totals only).
	later, equivalent int
}

// laterPrefix starts the verdict of a living mutant that a test added after the run kills.
const laterPrefix = "killed by a test added after"

// efficacy is gremlins' own figure: killed over killed + lived (timed out and not covered are
// outside it). -1 when nothing was killed or lived.
func (c counts) efficacy() float64 {
	if c.killed+c.lived == 0 {
		return -1
	}
	return 100 * float64(c.killed) / float64(c.killed+c.lived)
}

func pct(e float64) string {
	if e < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(e, 'f', 1, 64) + " %"
}

type mutant struct{ pos, typ string }

func build(o options) (string, error) {
	verdicts, err := readVerdicts(o.verdicts)
	if err != nil {
		return "", err
	}
	before, err := readBaseline(o.baseline)
	if err != nil {
		return "", err
	}
	times, err := readTimes(filepath.Join(o.dir, "times.tsv"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Mutation testing\n\n")
	b.WriteString("Written by `make mutation` (gremlins v0.6.0, pinned in tools.mod; one package at a time, each mutant\n")
	b.WriteString("judged by its package's own tests). Efficacy is gremlins' figure: killed / (killed + lived); a\n")
	b.WriteString("timed-out mutant (the tests hung, an endless loop) is listed apart. Do not edit: edit\n")
	b.WriteString("bench/mutation-verdicts.tsv, bench/mutation-notes.md or the baseline and run `make mutation`.\n\n")
	b.WriteString("| package | mutants run | killed | lived | not covered | timed out | efficacy | before | run time | code | lived, killed by later tests | lived, equivalent | efficacy with later tests |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n")
	var total counts
	var under []string
	totalSeconds := 0
	lived := map[string][]mutant{}
	for _, pkg := range o.pkgs {
		r, err := readResult(filepath.Join(o.dir, strings.ReplaceAll(pkg, "/", "_")+".json"))
		if err != nil {
			return "", err
		}
		var c counts
		later, equivalent := 0, 0
		for _, f := range r.Files {
			for _, m := range f.Mutations {
				switch m.Status {
				case "KILLED":
					c.killed++
				case "LIVED":
					c.lived++
					mu := mutant{pos: fmt.Sprintf("%s/%s:%d:%d", pkg, f.FileName, m.Line, m.Column), typ: m.Type}
					lived[pkg] = append(lived[pkg], mu)
					switch v := verdicts[mu.pos+" "+mu.typ]; {
					case strings.HasPrefix(v, laterPrefix):
						later++
					case strings.HasPrefix(v, "equivalent"):
						equivalent++
					}
				case "NOT COVERED":
					c.notCovered++
				case "TIMED OUT":
					c.timedOut++
				case "NOT VIABLE":
					c.notViable++
				}
			}
		}
		if e := c.efficacy(); e >= 0 && e < o.minEfficacy {
			under = append(under, fmt.Sprintf("%s kills %s of its mutants, under %s", pkg, pct(e), pct(o.minEfficacy)))
		}
		total.killed += c.killed
		total.lived += c.lived
		total.notCovered += c.notCovered
		total.timedOut += c.timedOut
		t, ok := times[pkg]
		if !ok {
			t.secs = int(r.Elapsed)
		}
		secs := t.secs
		totalSeconds += secs
		bf := "—"
		if x, ok := before[pkg]; ok {
			bf = x
		}
		withLater := counts{killed: c.killed + later, lived: c.lived - later}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d | %s | %s | %s | %s | %d | %d | %s |\n", pkg, c.killed+c.lived+c.timedOut+c.notViable, c.killed, c.lived,
			c.notCovered, c.timedOut, pct(c.efficacy()), bf, duration(secs), t.commit, later, equivalent, pct(withLater.efficacy()))
		total.later += later
		total.equivalent += equivalent
	}
	fmt.Fprintf(&b, "| all | %d | %d | %d | %d | %d | %s | | %s | | %d | %d | %s |\n\n", total.killed+total.lived+total.timedOut+total.notViable, total.killed, total.lived,
		total.notCovered, total.timedOut, pct(total.efficacy()), duration(totalSeconds), total.later, total.equivalent,
		pct(counts{killed: total.killed + total.later, lived: total.lived - total.later}.efficacy()))
	b.WriteString("\"Killed by later tests\": the verdict names a test added after the package's run, and the mutant\n")
	b.WriteString("applied by hand fails it; the last column counts those as killed. A later run shows them killed.\n\n")

	b.WriteString("## Living mutants\n\n")
	b.WriteString("Each with its verdict. An equivalent mutant changes no behaviour any test could observe; the reason\n")
	b.WriteString("says why.\n")
	missing := 0
	for _, pkg := range o.pkgs {
		if len(lived[pkg]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n", pkg)
		for _, m := range lived[pkg] {
			v, ok := verdicts[m.pos+" "+m.typ]
			if !ok {
				v = "**no verdict yet**"
				missing++
			}
			fmt.Fprintf(&b, "- `%s` %s: %s\n", m.pos, m.typ, v)
		}
	}
	if missing > 0 {
		fmt.Fprintf(&b, "\n%d living mutant(s) have no verdict yet.\n", missing)
	}
	if o.notes != "" {
		notes, err := os.ReadFile(o.notes)
		if err != nil {
			return "", err
		}
		b.WriteString("\n")
		b.Write(notes)
	}
	if len(under) > 0 {
		return b.String(), errors.New(strings.Join(under, "; "))
	}
	return b.String(), nil
}

func duration(secs int) string {
	if secs < 60 {
		return fmt.Sprintf("%d s", secs)
	}
	return fmt.Sprintf("%d min %02d s", secs/60, secs%60)
}

func readResult(path string) (result, error) {
	var r result
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// readTSV calls row with the tab-separated fields of every line that is neither empty nor a
// comment (#). A missing optional file (path "") reads as empty.
func readTSV(path string, min int, row func([]string) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return scanTSV(f, path, min, row)
}

func scanTSV(r io.Reader, path string, min int, row func([]string) error) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < min {
			return fmt.Errorf("%s:%d: %d tab-separated fields, want at least %d", path, n, len(fields), min)
		}
		if err := row(fields); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

func readVerdicts(path string) (map[string]string, error) {
	out := map[string]string{}
	err := readTSV(path, 3, func(f []string) error {
		out[f[0]+" "+f[1]] = strings.Join(f[2:], " ")
		return nil
	})
	return out, err
}

// readBaseline returns each package's earlier efficacy (a percentage) and where it comes from.
func readBaseline(path string) (map[string]string, error) {
	out := map[string]string{}
	err := readTSV(path, 3, func(f []string) error {
		e, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err != nil {
			return fmt.Errorf("efficacy %q: %w", f[1], err)
		}
		out[f[0]] = pct(e) + " (" + strings.TrimSpace(f[2]) + ")"
		return nil
	})
	return out, err
}

// runInfo is one package's run: how long it took and, when known, the commit it ran on.
type runInfo struct {
	secs   int
	commit string
}

// readTimes reads times.tsv: package, seconds, and optionally the commit the run used.
func readTimes(path string) (map[string]runInfo, error) {
	out := map[string]runInfo{}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return out, nil
	}
	err := readTSV(path, 2, func(f []string) error {
		n, err := strconv.Atoi(strings.TrimSpace(f[1]))
		if err != nil {
			return err
		}
		ri := runInfo{secs: n}
		if len(f) > 2 {
			ri.commit = strings.TrimSpace(f[2])
		}
		out[f[0]] = ri
		return nil
	})
	return out, err
}
