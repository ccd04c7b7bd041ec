package constraint

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestPropertyMatch checks Match against a direct, obviously-correct
// reading of the Swarm rules on random members and constraints.
func TestPropertyMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []string{"a", "A", "b", "ssd", ""}
	pick := func() string { return vals[r.IntN(len(vals))] }
	for range 5000 {
		m := model.Member{
			Name:          "n" + pick(),
			Labels:        map[string]string{},
			FailureDomain: pick(),
			Architecture:  []string{"x86_64", "aarch64", "amd64"}[r.IntN(3)],
		}
		if v := pick(); v != "" {
			m.Labels["k"] = v
		}
		for range r.IntN(3) {
			m.Roles = append(m.Roles, pick())
			m.Groups = append(m.Groups, pick())
		}
		key := []string{"node.labels.k", "node.role", "node.group", "node.failure_domain", "node.hostname", "node.platform.arch"}[r.IntN(6)]
		want := []string{"a", "b", "ssd", "na", "amd64", "x86_64", "arm64"}[r.IntN(7)]
		op := []string{"==", "!="}[r.IntN(2)]
		cs, err := Parse([]string{key + op + want})
		if err != nil {
			t.Fatal(err)
		}
		var values []string
		switch key {
		case "node.labels.k":
			values = []string{m.Labels["k"]}
		case "node.role":
			values = m.Roles
		case "node.group":
			values = m.Groups
		case "node.failure_domain":
			values = []string{m.FailureDomain}
		case "node.hostname":
			values = []string{m.Name}
		case "node.platform.arch":
			values = []string{NormArch(m.Architecture)}
			want = NormArch(want)
		}
		found := false
		for _, v := range values {
			found = found || strings.EqualFold(v, want)
		}
		if exp := found == (op == "=="); cs[0].Match(m) != exp {
			t.Fatalf("%s on %+v = %v, want %v", cs[0], m, !exp, exp)
		}
		// The normalised form parses back to the same constraint.
		again, err := Parse([]string{cs[0].String()})
		if err != nil || again[0] != cs[0] {
			t.Fatalf("round trip of %q: %v %v", cs[0], again, err)
		}
	}
}
