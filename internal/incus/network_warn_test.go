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
