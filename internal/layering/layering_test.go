package layering_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// wire lists the packages (and folders of packages) allowed to know grpc and gen/: the contract's
// generated code, the server that translates it, the daemons and the helpers of their tests.
var wire = []string{
	"github.com/modelium/brain/gen/",
	"github.com/modelium/brain/server",
	"github.com/modelium/brain/cmd/",
	"github.com/modelium/brain/internal/brainproc",
	"github.com/modelium/brain/internal/config",
	"github.com/modelium/brain/internal/testpki",
}

func isWire(pkg string) bool {
	for _, w := range wire {
		if pkg == strings.TrimSuffix(w, "/") || (strings.HasSuffix(w, "/") && strings.HasPrefix(pkg, w)) {
			return true
		}
	}
	return false
}

func TestDomainPackagesImportNeitherGRPCNorGen(t *testing.T) {
	out, err := exec.Command("go", "list", "github.com/modelium/brain/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var domain []string
	for _, pkg := range strings.Fields(string(out)) {
		if !isWire(pkg) {
			domain = append(domain, pkg)
		}
	}
	if len(domain) < 4 {
		t.Fatalf("found only %d domain packages (%v): the listing is broken", len(domain), domain)
	}
	for _, pkg := range domain {
		deps, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(deps)) {
			if strings.HasPrefix(dep, "google.golang.org/grpc") || strings.HasPrefix(dep, "github.com/modelium/brain/gen/") {
				t.Errorf("domain package %s depends on %s; only %v may", pkg, dep, wire)
				break
			}
		}
	}
	t.Logf("domain packages checked: %v", domain)
}

// TestEveryTopLevelFolderHasALayoutRow: a newcomer finds each top-level folder in the README's
// layout table.
func TestEveryTopLevelFolderHasALayoutRow(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no Layout section")
	}
	seen := map[string]bool{}
	for _, f := range strings.Split(string(out), "\n") {
		dir, _, ok := strings.Cut(f, "/")
		if !ok || strings.HasPrefix(dir, ".") || seen[dir] {
			continue
		}
		seen[dir] = true
		if !strings.Contains(layout, "`"+dir+"/") {
			t.Errorf("top-level folder %s/ has no row in the README's layout table", dir)
		}
	}
}
