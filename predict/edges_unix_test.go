//go:build linux || darwin

package predict_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/modelium/brain/predict"
)

// A write that fails half way (here: the file size limit, RLIMIT_FSIZE, which the Go runtime turns
// into an error rather than a signal) is an error, and the state file already at the path stays
// whole: the partial temporary file is neither synced nor closed into its place, and is removed.
// The limit is the process's: this test must not run in parallel with one that writes files.
func TestAFailedWriteLeavesTheOldStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.bin")
	small := periodic(t, 10, 3)
	if err := small.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	big := periodic(t, 10, 3)
	for _, name := range []string{"a", "b", "c", "d"} {
		big.Observe(predict.Key{Gateway: gw, Model: name}, minute(1))
	}

	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("no file size limit to set: %v", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(len(old)), Max: lim.Max}); err != nil {
		t.Skipf("cannot set a file size limit: %v", err)
	}
	err = big.WriteFile(path)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); rerr != nil {
		t.Fatalf("restoring the file size limit: %v", rerr)
	}

	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("WriteFile past the size limit: %v, want an error naming %s", err, path)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Errorf("the state file is now %d bytes, want the old %d unchanged", len(now), len(old))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want the state file alone", len(entries))
	}
}
