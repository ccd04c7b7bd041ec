package incus

import (
	"errors"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestOwnerCheck(t *testing.T) {
	keys := func(stack, svc, slot string) map[string]string {
		return map[string]string{model.KeyStack: stack, model.KeyService: svc, model.KeySlot: slot}
	}
	o := Owner{Stack: "s", Service: "web", Slot: 1}
	cases := []struct {
		name string
		in   ownedInstance
		ok   bool
	}{
		{"exact owner", ownedInstance{Name: "web-1", Project: "s", Config: keys("s", "web", "1")}, true},
		{"copy in another project", ownedInstance{Name: "web-1", Project: "backup", Config: keys("s", "web", "1")}, false},
		{"another stack's", ownedInstance{Name: "web-1", Project: "s", Config: keys("t", "web", "1")}, false},
		{"hand-made, no keys", ownedInstance{Name: "web-1", Project: "s", Config: map[string]string{}}, false},
		{"another service", ownedInstance{Name: "web-1", Project: "s", Config: keys("s", "api", "1")}, false},
		{"another slot", ownedInstance{Name: "web-1", Project: "s", Config: keys("s", "web", "2")}, false},
	}
	for _, c := range cases {
		err := o.check(c.in)
		if c.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v is not a conflict", c.name, err)
		}
	}
}
