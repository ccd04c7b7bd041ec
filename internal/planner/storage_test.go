package planner

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestStorageWarning(t *testing.T) {
	global := model.Service{Name: "agent", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
	nowhere := model.Service{Name: "gpu", Deploy: model.DeploySpec{Mode: model.ModeGlobal,
		Placement: model.Placement{Constraints: []string{"node.labels.gpu == true"}}}}
	pools := []model.StoragePool{{Name: "local", Driver: "dir"}, {Name: "remote", Driver: "ceph"}, {Name: "odd", Driver: ""}}
	cases := []struct {
		name     string
		services []model.Service
		root     string
		pools    []model.StoragePool
		want     string // "" = no warning; else a substring
	}{
		{"replicas on local pool", []model.Service{svc("web", 3, "h")}, "local", pools,
			`stack demo: root disk pool "local" uses the dir driver, which is local to each member, while web runs more than one instance: instances cannot fail over with their data`},
		{"global on local pool", []model.Service{global}, "local", pools, "while agent runs more than one instance"},
		{"several services named once, sorted", []model.Service{svc("web", 2, "h"), svc("one", 1, "h"), global}, "local", pools, "while agent, web run more than one"},
		{"lost replicas are re-created", []model.Service{svc("web", 2, "h")}, "local", pools, "replicas of a lost member are re-created from the image"},
		{"single replica", []model.Service{svc("web", 1, "h"), svc("db", 0, "h")}, "local", pools, ""},
		{"shared pool", []model.Service{svc("web", 3, "h")}, "remote", pools, ""},
		{"shared driver, any case", []model.Service{svc("web", 3, "h")}, "x", []model.StoragePool{{Name: "x", Driver: "LINSTOR"}}, ""},
		{"lvmcluster", []model.Service{svc("web", 3, "h")}, "x", []model.StoragePool{{Name: "x", Driver: "lvmcluster"}}, ""},
		{"cephfs", []model.Service{svc("web", 3, "h")}, "x", []model.StoragePool{{Name: "x", Driver: "cephfs"}}, ""},
		{"zfs is local", []model.Service{svc("web", 3, "h")}, "x", []model.StoragePool{{Name: "x", Driver: "zfs"}}, `uses the zfs driver`},
		{"root pool unknown (old snapshot)", []model.Service{svc("web", 3, "h")}, "", pools, ""},
		{"root pool not listed", []model.Service{svc("web", 3, "h")}, "gone", pools, ""},
		{"driver unknown", []model.Service{svc("web", 3, "h")}, "odd", pools, ""},
		// A global service whose constraints match no member runs nothing.
		{"global matching no member is not named", []model.Service{nowhere, svc("web", 2, "h")}, "local", pools, "while web runs more than one"},
		{"only a global matching no member", []model.Service{nowhere}, "local", pools, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := &model.ClusterState{Members: three(), StoragePools: tc.pools, RootPool: tc.root}
			_, res, err := Plan(stack(tc.services...), state, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range res.Warnings {
				if strings.Contains(w, "root disk pool") {
					got = append(got, w)
				}
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("unexpected storage warning %q", got)
			case tc.want != "" && len(got) != 1:
				t.Fatalf("want exactly one storage warning for the stack, got %q", got)
			case tc.want != "" && !strings.Contains(got[0], tc.want):
				t.Fatalf("warning %q\nwant it to contain %q", got[0], tc.want)
			}
		})
	}
	if w := storageWarning(stack(svc("web", 3, "h")), nil, nil); w != "" {
		t.Fatalf("nil state warns: %q", w)
	}
}
