package server

import (
	"testing"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/recommend"
)

// TestWithdrawalCauseOnTheWire: every cause the engine names has its wire value, and one the
// wire does not know (a newer engine) is sent as UNSPECIFIED, never a panic.
func TestWithdrawalCauseOnTheWire(t *testing.T) {
	for _, tt := range []struct {
		cause recommend.Cause
		want  brainv1.WithdrawalCause
	}{
		{recommend.CauseTrafficResumed, brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_TRAFFIC_RESUMED},
		{recommend.CauseModelLoaded, brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_MODEL_LOADED},
		{recommend.CauseModelLoaded + 1, brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_UNSPECIFIED},
		{255, brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_UNSPECIFIED},
	} {
		if got := withdrawalCause(tt.cause); got != tt.want {
			t.Errorf("withdrawalCause(%d) = %v; want %v", tt.cause, got, tt.want)
		}
	}
}
