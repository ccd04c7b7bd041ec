package incus

import (
	"context"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// A cluster with no network settings: a file of several services on the
// implicit default network gets no NIC, so its services cannot reach each
// other; that is said, naming the network. (The real cluster's settings
// are shared by every test, so this uses the recording fake.)
func TestUnwiredDefaultNetworkOfSeveralServicesWarns(t *testing.T) {
	c := startRecordingIncus(t, &recordingIncus{config: map[string]string{}})
	two := &model.Stack{Name: "shop", Networks: []model.Network{{Name: "default"}}, Services: []model.Service{
		{Name: "api", Networks: []model.ServiceNetwork{{Network: "default"}}},
		{Name: "db", Networks: []model.ServiceNetwork{{Network: "default"}}},
	}}
	plan, err := c.ResolveNetworks(context.Background(), two, threeMembers)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(plan.Warnings, "\n"); !strings.Contains(w, `network "default": not wired`) {
		t.Errorf("warnings: %q", w)
	}
	one := &model.Stack{Name: "solo", Networks: []model.Network{{Name: "default"}}, Services: two.Services[:1]}
	if plan, err = c.ResolveNetworks(context.Background(), one, threeMembers); err != nil || len(plan.Warnings) != 0 {
		t.Errorf("a single service needs no network, got %q (%v)", plan.Warnings, err)
	}
}

// `external: true` naming a managed Incus bridge, which each member runs as
// an L2 of its own, is accepted with a warning naming it. (On the test bed
// every member shares one host, whose interface names a managed bridge on
// each member would clash: the recording fake answers as a real cluster.)
func TestManagedBridgeAcrossMembersWarns(t *testing.T) {
	c := startRecordingIncus(t, &recordingIncus{config: map[string]string{},
		networks: map[string]map[string]any{"incusbr0": {"name": "incusbr0", "type": "bridge", "managed": true, "config": map[string]string{}}}})
	stack := &model.Stack{Name: "shop", Networks: []model.Network{{Name: "lan", Existing: "incusbr0"}},
		Services: []model.Service{{Name: "web", Networks: []model.ServiceNetwork{{Network: "lan"}}}}}
	plan, err := c.ResolveNetworks(context.Background(), stack, threeMembers)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(plan.Warnings, "\n")
	if !strings.Contains(w, `"incusbr0" is a managed bridge`) || !strings.Contains(w, "cannot reach each other") {
		t.Errorf("warnings: %q", w)
	}
}
