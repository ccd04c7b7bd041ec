// Package integration holds the tests that run against the real loopback
// Incus cluster of testdata/testbed (make testbed-up). They skip with a clear
// message when it is not up, unless INCUS_FLEET_REQUIRE_TESTBED is set, as
// `make test` does, in which case a missing cluster fails the run.
package integration
