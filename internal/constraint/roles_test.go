package constraint

import (
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestNodeRoleManagerWorker(t *testing.T) {
	members := []model.Member{
		{Name: "leader", Roles: []string{"database-leader", "database"}},
		{Name: "voter", Roles: []string{"database"}},
		{Name: "standby", Roles: []string{"database-standby"}},
		{Name: "spare"},
	}
	for _, c := range []struct {
		expr string
		want []string
	}{
		{"node.role == manager", []string{"leader", "voter"}},
		{"node.role==MANAGER", []string{"leader", "voter"}},
		{"node.role != manager", []string{"standby", "spare"}},
		{"node.role == worker", []string{"standby", "spare"}},
		{"node.role != worker", []string{"leader", "voter"}},
		{"node.role == database-standby", []string{"standby"}},
		{"node.role == database", []string{"leader", "voter"}},
	} {
		cs, err := Parse([]string{c.expr})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range members {
			if MatchAll(cs, m) {
				got = append(got, m.Name)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s matches %v, want %v", c.expr, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s matches %v, want %v", c.expr, got, c.want)
			}
		}
	}
}
