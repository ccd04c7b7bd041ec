// Package planner turns a desired stack and the cluster's current state into
// the ordered plan the executor carries out. It is pure and deterministic:
// the same inputs give a byte-identical plan, with no map-order dependence
// and no randomness, so a dry run shows exactly what a real run will do.
//
// Planning runs in two passes. The first classifies every existing
// instance of the stack (keep, replace in place, move, delete) from facts
// that do not depend on new placements. The second asks the scheduler for
// members for the moved and missing slots, service by service in name
// order, so each service's placements see the load the previous ones added.
package planner
