package incus

import (
	"context"
	"os"
	"testing"
)

// bed connects to the loopback test cluster (make testbed-up), or skips
// when it is not up (fails when INCUS_FLEET_REQUIRE_TESTBED is set).
func bed(t *testing.T) *Client {
	t.Helper()
	if os.Getenv("INCUS_SOCKET") == "" || os.Getenv("INCUS_FLEET_TESTBED") == "" {
		if os.Getenv("INCUS_FLEET_REQUIRE_TESTBED") != "" {
			t.Fatal("the loopback Incus cluster is required but its env is missing: run `make testbed-up` and source $TESTBED_DIR/env")
		}
		t.Skip("loopback Incus cluster not up: run `make testbed-up` and source $TESTBED_DIR/env")
	}
	c, err := Connect(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
