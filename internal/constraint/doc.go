// Package constraint parses Compose/Swarm placement constraints once and
// matches them against cluster members many times.
//
// Semantics follow Docker Swarm: only == and != exist, values compare
// case-insensitively, and a missing label reads as "" so that
// node.labels.x!=y matches members without the label. Unlike Swarm, an
// unknown key is a parse error rather than a constraint that matches
// nothing, because a typo should fail the deploy, not strand replicas.
package constraint
