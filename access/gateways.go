package access

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
)

// AnyGateway in a rule's gateway ids lets its principal act for every gateway.
const AnyGateway = "*"

// Principal is who a client certificate names: its first URI SAN (a SPIFFE ID such as
// spiffe://example.org/gateway/gw-1), else its first DNS SAN, else its subject common name; "" for
// none.
func Principal(cert *x509.Certificate) string {
	switch {
	case cert == nil:
		return ""
	case len(cert.URIs) > 0:
		return cert.URIs[0].String()
	case len(cert.DNSNames) > 0:
		return cert.DNSNames[0]
	}
	return cert.Subject.CommonName
}

// GatewayRule lets one principal act for the listed gateway ids (AnyGateway for all).
type GatewayRule struct {
	Principal  string
	GatewayIDs []string
}

// Gateways is the principal -> gateway ids map. It is read-only once built and safe for concurrent
// use.
type Gateways struct {
	rules map[string]grant
}

type grant struct {
	any bool
	ids map[string]struct{}
}

// NewGateways builds the map; each principal appears once, with at least one gateway id.
func NewGateways(rules []GatewayRule) (*Gateways, error) {
	g := &Gateways{rules: make(map[string]grant, len(rules))}
	var errs []error
	for i, r := range rules {
		switch {
		case r.Principal == "":
			errs = append(errs, fmt.Errorf("gateways[%d].principal: required", i))
			continue
		case len(r.GatewayIDs) == 0:
			errs = append(errs, fmt.Errorf("gateways[%d].gateway_ids: list at least one gateway id, or %q for any", i, AnyGateway))
			continue
		}
		if _, dup := g.rules[r.Principal]; dup {
			errs = append(errs, fmt.Errorf("gateways[%d].principal: %q is listed twice", i, r.Principal))
			continue
		}
		gr := grant{any: slices.Contains(r.GatewayIDs, AnyGateway)}
		if !gr.any {
			gr.ids = make(map[string]struct{}, len(r.GatewayIDs))
			for j, id := range r.GatewayIDs {
				if id == "" {
					errs = append(errs, fmt.Errorf("gateways[%d].gateway_ids[%d]: empty", i, j))
				}
				gr.ids[id] = struct{}{}
			}
		}
		g.rules[r.Principal] = gr
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return g, nil
}

// Allowed says whether principal may act for gateway.
func (g *Gateways) Allowed(principal, gateway string) bool {
	gr, ok := g.rules[principal]
	if !ok {
		return false
	}
	if gr.any {
		return true
	}
	_, ok = gr.ids[gateway]
	return ok
}

// Known says whether the map names principal at all.
func (g *Gateways) Known(principal string) bool {
	_, ok := g.rules[principal]
	return ok
}

// AllowsAny says whether principal may act for every gateway (its rule lists AnyGateway).
func (g *Gateways) AllowsAny(principal string) bool { return g.rules[principal].any }
