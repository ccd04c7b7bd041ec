package scheduler

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestPlace(t *testing.T) {
	offline := member("node3")
	offline.Status = model.StatusOffline
	evac := member("node4")
	evac.Status = model.StatusEvacuated
	small := func(name string, cpus int, mem int64) model.Member {
		m := member(name)
		m.CPUs, m.MemoryBytes = cpus, mem
		return m
	}
	cases := []struct {
		name      string
		members   []model.Member
		instances []model.Instance
		svc       *model.Service
		existing  []string // Add'ed before placing
		n         int
		want      []string // tally
		err       string
	}{
		{
			name:    "even over members",
			members: []model.Member{member("node1"), member("node2"), member("node3")},
			svc:     replicated("web", 7),
			n:       7,
			want:    []string{"node1=3", "node2=2", "node3=2"},
		},
		{
			name:    "offline and evacuated excluded",
			members: []model.Member{member("node1"), member("node2"), offline, evac},
			svc:     replicated("web", 4),
			n:       4,
			want:    []string{"node1=2", "node2=2"},
		},
		{
			name:    "constraint",
			members: []model.Member{member("node1", "storage", "ssd"), member("node2"), member("node3", "storage", "SSD")},
			svc: func() *model.Service {
				s := replicated("db", 2)
				s.Deploy.Placement.Constraints = []string{"node.labels.storage == ssd"}
				return s
			}(),
			n:    2,
			want: []string{"node1=1", "node3=1"},
		},
		{
			name:    "constraint excludes all",
			members: []model.Member{member("node1"), member("node2"), member("node3")},
			svc: func() *model.Service {
				s := replicated("db", 2)
				s.Deploy.Placement.Constraints = []string{"node.labels.storage == ssd"}
				return s
			}(),
			n:   2,
			err: "no suitable node for db (2 replicas): constraint node.labels.storage==ssd excluded 3 of 3 members",
		},
		{
			name:    "online then constraint, each member charged once",
			members: []model.Member{member("node1"), member("node2", "storage", "ssd"), offline},
			svc: func() *model.Service {
				s := replicated("db", 1)
				s.Deploy.Placement.Constraints = []string{"node.labels.storage==ssd", "node.role==database"}
				return s
			}(),
			n:   1,
			err: "no suitable node for db (1 replica): 1 member not online (node3: Offline); constraint node.labels.storage==ssd excluded 1 of 3 members; constraint node.role==database excluded 1 of 3 members",
		},
		{
			name:    "max replicas per node",
			members: []model.Member{member("node1"), member("node2")},
			svc: func() *model.Service {
				s := replicated("web", 3)
				s.Deploy.Placement.MaxReplicasPerNode = 1
				return s
			}(),
			n:   3,
			err: "no suitable node for web (1 replica): max_replicas_per_node=1 reached on 2 members",
		},
		{
			name:    "max replicas per node 2",
			members: []model.Member{member("node1"), member("node2")},
			svc: func() *model.Service {
				s := replicated("web", 4)
				s.Deploy.Placement.MaxReplicasPerNode = 2
				return s
			}(),
			n:    4,
			want: []string{"node1=2", "node2=2"},
		},
		{
			name:    "single published port caps at one per member",
			members: []model.Member{member("node1"), member("node2"), offline},
			svc: func() *model.Service {
				s := replicated("web", 3)
				s.Ports = []model.Port{{PublishedStart: 8080, Target: 80, Protocol: "tcp"}}
				return s
			}(),
			n:   3,
			err: "no suitable node for web (1 replica): 1 member not online (node3: Offline); published port 8080 allows one replica per member",
		},
		{
			name:    "port range does not cap",
			members: []model.Member{member("node1")},
			svc: func() *model.Service {
				s := replicated("web", 3)
				s.Ports = []model.Port{{PublishedStart: 8080, PublishedEnd: 8089, Target: 80}, {Target: 9000}}
				return s
			}(),
			n:    3,
			want: []string{"node1=3"},
		},
		{
			name:    "reservations",
			members: []model.Member{small("node1", 2, 0), small("node2", 4, 0), small("node3", 0, 0)},
			svc: func() *model.Service {
				s := replicated("web", 12)
				s.Deploy.Resources.ReserveCPUs = 1
				return s
			}(),
			n:    12,
			want: []string{"node1=2", "node2=4", "node3=6"}, // node3 capacity unknown
		},
		{
			name:    "reservations exhausted",
			members: []model.Member{small("node1", 1, 1<<30), small("node2", 8, 1<<30)},
			svc: func() *model.Service {
				s := replicated("web", 4)
				s.Deploy.Resources.ReserveCPUs = 0.5
				s.Deploy.Resources.ReserveMemoryBytes = 512 << 20
				return s
			}(),
			n:   5,
			err: "no suitable node for web (1 replica): insufficient resources on 2 members (reserving 0.5 CPUs, 512MiB memory per replica)",
		},
		{
			name:    "spread over racks, members without the label on their own",
			members: []model.Member{member("a1", "rack", "a"), member("a2", "rack", "a"), member("a3", "rack", "a"), member("b1", "rack", "b"), member("x1")},
			svc: func() *model.Service {
				s := replicated("web", 6)
				s.Deploy.Placement.Spread = []string{"node.labels.rack"}
				return s
			}(),
			n:    6,
			want: []string{"a1=1", "a2=1", "b1=2", "x1=2"},
		},
		{
			name:    "existing replicas count in the tree",
			members: []model.Member{member("a1", "rack", "a"), member("a2", "rack", "a"), member("b1", "rack", "b"), member("b2", "rack", "b")},
			svc: func() *model.Service {
				s := replicated("web", 4)
				s.Deploy.Placement.Spread = []string{"node.labels.rack"}
				return s
			}(),
			existing: []string{"a1", "a2"},
			n:        2,
			want:     []string{"b1=1", "b2=1"},
		},
		{
			name: "leaf tie-break by overall instances, then name",
			members: []model.Member{
				member("node1"), member("node2"), member("node3"),
			},
			instances: []model.Instance{{Name: "x", Member: "node1"}, {Name: "y", Member: "node1"}, {Name: "z", Member: "node2"}},
			svc:       replicated("web", 2),
			n:         2,
			want:      []string{"node2=1", "node3=1"},
		},
		{
			name:    "spread over node.id is the default",
			members: []model.Member{member("node1"), member("node2")},
			svc: func() *model.Service {
				s := replicated("web", 2)
				s.Deploy.Placement.Spread = []string{"node.id", "instanceId"}
				return s
			}(),
			n:    2,
			want: []string{"node1=1", "node2=1"},
		},
		{
			name: "no members",
			svc:  replicated("web", 1),
			n:    1,
			err:  "no suitable node for web (1 replica): the cluster has no members",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCluster(&model.ClusterState{Members: tc.members, Instances: tc.instances})
			s := mustService(t, c, tc.svc)
			for _, m := range tc.existing {
				if !s.Fits(m) {
					t.Fatalf("existing replica on %s does not fit", m)
				}
				s.Add(m)
			}
			placed, err := s.Place(tc.n)
			if tc.err != "" {
				var ns *NoSuitableNodeError
				if !errors.As(err, &ns) {
					t.Fatalf("err = %v, want NoSuitableNodeError", err)
				}
				if err.Error() != tc.err {
					t.Fatalf("err =\n%s\nwant\n%s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tally(placed); !slices.Equal(got, tc.want) {
				t.Fatalf("placed %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPlacementOrderInterleaves(t *testing.T) {
	c := NewCluster(&model.ClusterState{Members: []model.Member{
		member("a1", "rack", "a"), member("a2", "rack", "a"), member("b1", "rack", "b"), member("b2", "rack", "b"),
	}})
	svc := replicated("web", 4)
	svc.Deploy.Placement.Spread = []string{"node.labels.rack"}
	placed, err := mustService(t, c, svc).Place(4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "b1", "a2", "b2"}; !slices.Equal(placed, want) {
		t.Fatalf("order %v, want %v", placed, want)
	}
}

func TestTwoLevelSpread(t *testing.T) {
	// zone z1 has two racks, zone z2 one: zones split 4/4, then z1's racks 2/2.
	var ms []model.Member
	for _, z := range []struct{ zone, rack, name string }{
		{"z1", "r1", "m1"}, {"z1", "r1", "m2"}, {"z1", "r2", "m3"}, {"z2", "r3", "m4"}, {"z2", "r3", "m5"},
	} {
		ms = append(ms, member(z.name, "zone", z.zone, "rack", z.rack))
	}
	c := NewCluster(&model.ClusterState{Members: ms})
	svc := replicated("web", 8)
	svc.Deploy.Placement.Spread = []string{"node.labels.zone", "node.labels.rack"}
	placed, err := mustService(t, c, svc).Place(8)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tally(placed), []string{"m1=1", "m2=1", "m3=2", "m4=2", "m5=2"}; !slices.Equal(got, want) {
		t.Fatalf("placed %v, want %v", got, want)
	}
}

func TestPlacementsAcrossServicesShareLoad(t *testing.T) {
	c := NewCluster(&model.ClusterState{Members: []model.Member{member("node1"), member("node2")}})
	a, _ := mustService(t, c, replicated("a", 1)).Place(1)
	b, _ := mustService(t, c, replicated("b", 1)).Place(1)
	if a[0] != "node1" || b[0] != "node2" {
		t.Fatalf("a on %v, b on %v: second service should avoid the loaded member", a, b)
	}
	c.Release("node1")
	c.Release("node1") // never below zero
	if c.Instances("node1") != 0 {
		t.Fatalf("instances = %d", c.Instances("node1"))
	}
}

func TestFitsAndAdd(t *testing.T) {
	off := member("node3")
	off.Status = model.StatusBlocked
	c := NewCluster(&model.ClusterState{Members: []model.Member{member("node1"), member("node2"), off}})
	svc := replicated("web", 3)
	svc.Deploy.Placement.MaxReplicasPerNode = 1
	s := mustService(t, c, svc)
	if !s.Fits("node1") {
		t.Fatal("node1 should fit")
	}
	s.Add("node1")
	if s.Fits("node1") {
		t.Fatal("node1 is at max_replicas_per_node")
	}
	if s.Fits("node3") || s.Eligible("node3") || s.Fits("gone") {
		t.Fatal("blocked and unknown members do not fit")
	}
	if s.Count("node1") != 1 {
		t.Fatal("count")
	}
	if got := s.EligibleMembers(); !slices.Equal(got, []string{"node1", "node2"}) {
		t.Fatalf("eligible %v", got)
	}
}

func TestGlobal(t *testing.T) {
	off := member("node4")
	off.Status = model.StatusOffline
	tiny := member("node5", "gpu", "yes")
	tiny.CPUs = 1
	c := NewCluster(&model.ClusterState{Members: []model.Member{
		member("node1", "gpu", "yes"), member("node2", "gpu", "yes"), member("node3"), off, tiny,
	}})
	svc := &model.Service{Name: "agent", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
	svc.Deploy.Placement.Constraints = []string{"node.labels.gpu==yes"}
	svc.Deploy.Resources.ReserveCPUs = 2
	s := mustService(t, c, svc)
	s.Add("node2")
	placed, err := s.PlaceGlobal()
	if !slices.Equal(placed, []string{"node1"}) {
		t.Fatalf("placed %v", placed)
	}
	want := "no suitable node for agent (1 replica): insufficient resources on 1 member (reserving 2 CPUs per replica)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestBadSpec(t *testing.T) {
	c := NewCluster(&model.ClusterState{Members: []model.Member{member("node1")}})
	svc := replicated("web", 1)
	svc.Deploy.Placement.Spread = []string{"node.labels.rack", "node.rack"}
	if _, err := c.Service(svc); err == nil || !strings.Contains(err.Error(), `invalid spread preference "node.rack": unknown key`) {
		t.Fatalf("err = %v", err)
	}
	svc = replicated("web", 1)
	svc.Deploy.Placement.Constraints = []string{"node.labels.rack = a"}
	if _, err := c.Service(svc); err == nil || !strings.Contains(err.Error(), `invalid constraint "node.labels.rack = a"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestOnlineReasonTruncates(t *testing.T) {
	var ms []model.Member
	for _, n := range []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7"} {
		m := member(n)
		m.Status = model.StatusOffline
		ms = append(ms, m)
	}
	_, err := mustService(t, NewCluster(&model.ClusterState{Members: ms}), replicated("web", 1)).Place(1)
	want := "no suitable node for web (1 replica): 7 members not online (n1: Offline, n2: Offline, n3: Offline, n4: Offline, n5: Offline, and 2 more members)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v", err)
	}
}

func TestFormatBytes(t *testing.T) {
	for in, want := range map[int64]string{1: "1B", 1536: "1.5KiB", 512 << 20: "512MiB", 1 << 30: "1GiB"} {
		if got := formatBytes(in); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}
