package incus

import "testing"

func TestFleetKeysDropsEverythingElse(t *testing.T) {
	got := fleetKeys(map[string]string{
		"user.fleet.stack": "s", "user.fleet.hash": "h",
		"environment.DB_PASSWORD": "secret", "user.label.tier": "web", "volatile.uuid": "x",
	})
	if len(got) != 2 || got["user.fleet.stack"] != "s" || got["user.fleet.hash"] != "h" {
		t.Fatalf("fleetKeys kept %v", got)
	}
}
