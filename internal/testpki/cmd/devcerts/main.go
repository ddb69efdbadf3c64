// Command devcerts writes a throwaway PKI for trying the brain's mutual TLS on one machine: a CA
// (ca.pem), the brain's certificate for localhost and 127.0.0.1 (brain.crt, brain.key) and gateway
// gw-1's client certificate, whose principal is the URI SAN spiffe://example.org/gateway/gw-1
// (gw-1.crt, gw-1.key). Everything is valid for a day and made at run time (internal/testpki), so
// nothing that expires is committed. It is not for production: use your own CA there.
//
//	go run ./internal/testpki/cmd/devcerts -dir tls-dev
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/modelium/brain/internal/testpki"
)

func main() {
	dir := flag.String("dir", "tls-dev", "folder to write ca.pem, brain.crt/.key and gw-1.crt/.key to (created if missing)")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "devcerts:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: ca.pem, brain.crt, brain.key, gw-1.crt, gw-1.key (valid for a day)\n", *dir)
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := testpki.NewCA("brain dev CA")
	if err != nil {
		return err
	}
	if err := testpki.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM); err != nil {
		return err
	}
	leaves := []struct {
		name string
		leaf testpki.Leaf
	}{
		{"brain", testpki.Leaf{CommonName: "brain", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}},
		{"gw-1", testpki.Leaf{CommonName: "gw-1", URIs: []string{"spiffe://example.org/gateway/gw-1"}}},
	}
	for _, l := range leaves {
		issued, err := ca.Issue(l.leaf)
		if err != nil {
			return err
		}
		if _, _, err := issued.Write(dir, l.name); err != nil {
			return err
		}
	}
	return nil
}
