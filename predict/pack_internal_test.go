package predict

import "testing"

// TestADecisionsDetailKeepsWhatItsReasonNeeds: pack and unpack keep the chance (to 1/255), the
// expected minute relative to now, the gaps and whether the fixed policy decided.
func TestADecisionsDetailKeepsWhatItsReasonNeeds(t *testing.T) {
	for _, tt := range []struct {
		name string
		d    Decision
		want Decision
	}{
		{"a chance, an expected minute three ahead and seven gaps come back",
			Decision{Now: 100, Expected: 103, Chance: decodeChance(128), Gaps: 7},
			Decision{Expected: 3, Chance: decodeChance(128), Gaps: 7}},
		{"a certain chance and the fixed policy's say come back",
			Decision{Now: 100, Chance: 1, Gaps: 1, byFixed: true},
			Decision{Chance: 1, Gaps: 1, byFixed: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := unpack(tt.d.pack())
			if got.Chance != tt.want.Chance || got.Expected != tt.want.Expected || got.Gaps != tt.want.Gaps || got.byFixed != tt.want.byFixed {
				t.Fatalf("unpack(pack(%+v)) = %+v, want %+v", tt.d, got, tt.want)
			}
		})
	}
}
