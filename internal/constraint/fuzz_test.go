package constraint

import (
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// round-trips through String and matches without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"node.labels.storage == ssd", "node.labels.storage!=ssd", "node.role==database",
		"node.platform.arch == aarch64", "node.hostname != node1", "node.group==gpu",
		"node.failure_domain==az1", "node.platform.os==linux", "node.id==x",
		"a = b", "node.labels.x >= 1", "==", "!=", "node.labels.==x", "node.labels.a==b==c",
		"NODE.LABELS.Zone == EU-1", "node.labels.k==\x00", "\xff==\xfe",
	} {
		f.Add(s)
	}
	m := model.Member{Name: "n", Architecture: "x86_64", Labels: map[string]string{"storage": "ssd"}, Roles: []string{"database"}}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := Parse([]string{s})
		if err != nil {
			if cs != nil {
				t.Fatalf("constraints returned with error: %v", cs)
			}
			return
		}
		c := cs[0]
		again, err := Parse([]string{c.String()})
		if err != nil {
			t.Fatalf("%q normalised to %q which does not parse: %v", s, c.String(), err)
		}
		if again[0] != c {
			t.Fatalf("round trip %q -> %q changed the constraint", s, c.String())
		}
		_ = c.Match(m)
		_ = c.Match(model.Member{})
	})
}
