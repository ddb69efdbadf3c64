package server

import (
	"testing"
	"time"
)

// The expiry loop looks every tenth of the TTL, at least once a minute and at most once a second.
func TestExpiryIntervalIsATenthOfTheTTLWithinASecondAndAMinute(t *testing.T) {
	for _, tt := range []struct{ ttl, want time.Duration }{
		{10 * time.Minute, time.Minute},
		{2 * time.Minute, 12 * time.Second},
		{30 * time.Second, 3 * time.Second},
		{5 * time.Second, time.Second},
		{24 * time.Hour, time.Minute},
	} {
		if got := expiryInterval(tt.ttl); got != tt.want {
			t.Errorf("expiryInterval(%v) = %v, want %v", tt.ttl, got, tt.want)
		}
	}
}
