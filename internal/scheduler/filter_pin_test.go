package scheduler

import (
	"slices"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestPin: a pinned service goes only to its member; members its own
// filters rejected stay charged to them, so the reasons add up to the
// member count and name both the constraint and the co-location.
func TestPin(t *testing.T) {
	c := NewCluster(&model.ClusterState{Members: []model.Member{member("node1", "disk", "ssd"), member("node2", "disk", "ssd"), member("node3")}})
	for _, tc := range []struct {
		name   string
		pin    string
		n      int
		placed []string
		err    string
	}{
		{"pinned member allowed", "node2", 2, []string{"node2", "node2"}, ""},
		{"pinned member excluded by a constraint", "node3", 1, nil,
			"no suitable node for web (1 replica): constraint node.labels.disk==ssd excluded 1 of 3 members; co-location on member node3 (services db, web share volume data) excluded 2 of 3 members"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := replicated("web", tc.n)
			svc.Deploy.Placement.Constraints = []string{"node.labels.disk==ssd"}
			s := mustService(t, c, svc)
			s.Pin(tc.pin, "services db, web share volume data")
			placed, err := s.Place(tc.n)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v\nwant %s", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(placed, tc.placed) {
				t.Fatalf("placed %v, %v; want %v", placed, err, tc.placed)
			}
			if s.Eligible("node1") || !s.Eligible(tc.pin) {
				t.Errorf("eligibility after pin: node1 %v, %s %v", s.Eligible("node1"), tc.pin, s.Eligible(tc.pin))
			}
		})
	}
}
