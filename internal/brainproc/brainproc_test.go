package brainproc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modelium/brain/internal/brainproc"
)

func TestStartReportsABinaryThatDoesNotServe(t *testing.T) {
	cases := []struct {
		name, binary, want string
	}{
		{"missing binary", "/nonexistent/brain", "start /nonexistent/brain"},
		{"binary that exits at once", "/bin/false", "exited before serving"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := brainproc.Start(context.Background(), c.binary)
			if err == nil {
				p.Kill()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}
