// Package integration holds the tests that run against the real loopback
// Incus cluster of testdata/testbed (make testbed-up). They skip with a clear
// message when it is not up, unless INCUS_FLEET_REQUIRE_TESTBED is set, as
// `make test` does, in which case a missing cluster fails the run.
//
// Two kinds of test, so the package runs in a fraction of the time of one
// test after another:
//   - a test that deploys a stack of its own and only checks that stack
//     calls t.Parallel(); go test runs all of them side by side (up to
//     -parallel at once) after every other test has finished;
//   - a test that kills, crashes, stops, evacuates or adds members, changes
//     cluster-wide config (offline threshold, profiles, pools, networks,
//     labels), counts requests or bounds a time does not: it runs alone,
//     before the parallel ones, so nothing it does reaches another test.
package integration
